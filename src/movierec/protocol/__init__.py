"""The experimental protocol that tuning (``model/``) and evaluation (``evaluation/``) share: which
users train, validate and evaluate (:mod:`.split`), the split of a user's likes in time
(:mod:`.holdout`), and the measures: of film-to-film lists (:mod:`.metrics`) and of personal lists
(:mod:`.list_metrics`). A leaf: it imports nothing of movierec."""
