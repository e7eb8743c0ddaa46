"""One goal checked: a measured value against what is wanted, with how the wanted figure was
reached. The evaluation's goals (:data:`movierec.evaluation.run.GOALS`) and the cold start's
(:mod:`movierec.evaluation.cold`) are lists of these, printed by :mod:`movierec.evaluation.tables`.

>>> check("coverage", 0.59, "≥", 0.60, share=True)["met"]
False
>>> relative("nDCG@10", 0.2, [{"method": "ALS", "ndcg_at_k": 0.18}], "ndcg_at_k", 1.1)["basis"]
"1.1 × ALS's 0.180"
"""

from __future__ import annotations


def check(
    goal: str, value: float | None, op: str, wanted: float, basis: str = "", share: bool = False
) -> dict[str, object]:
    """One goal: ``value op wanted`` (op ≥ or ≤; a missing value fails), ``basis`` how ``wanted``
    was reached (e.g. "1.1 × co-occurrence count's 0.078"); ``share``: printed as a percentage."""
    measured = 0.0 if value is None else float(value)
    met = measured >= wanted if op == "≥" else measured <= wanted
    return {
        "goal": goal,
        "value": measured,
        "op": op,
        "wanted": wanted,
        "met": bool(met),
        **({"basis": basis} if basis else {}),
        **({"share": True} if share else {}),
    }


def relative(goal: str, value: float, anchors: list[dict[str, object]], metric: str, ratio: float) -> dict[str, object]:
    """``value`` ≥ ``ratio`` × the best of ``anchors``' ``metric``."""
    best = max(anchors, key=lambda row: row[metric] or 0.0)  # type: ignore[arg-type,return-value]
    figure = float(best[metric] or 0.0)  # type: ignore[arg-type]
    times = "" if ratio == 1 else f"{ratio:g} × "
    share = metric == "coverage"
    shown = f"{figure:.1%}" if share else f"{figure:.3f}"
    return check(goal, value, "≥", ratio * figure, f"{times}{best['method']}'s {shown}", share)
