"""The experimental protocol that tuning (``model/``) and evaluation (``evaluation/``) share: which
users train, validate and evaluate (:mod:`.split`), the split of a user's likes in time
(:mod:`.holdout`), and the measures (:mod:`.metrics`). A leaf: it imports nothing of movierec."""
