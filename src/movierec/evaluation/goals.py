"""One goal checked: a measured value against what is wanted, with how the wanted figure was
reached. The evaluation's goals (:data:`movierec.evaluation.run.GOALS`) and the cold start's
(:mod:`movierec.evaluation.cold`) are lists of these, printed by :mod:`movierec.evaluation.tables`.

>>> check("coverage", 0.59, "≥", 0.60, share=True)["met"]
False
>>> relative("nDCG@10", 0.2, [{"method": "ALS", "ndcg_at_k": 0.18}], "ndcg_at_k", 1.1)["basis"]
"1.1 × ALS's 0.180"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real

Row = Mapping[str, object]  # one method's row of a table: its name and its figures


def figure(value: object) -> float:
    """A figure of a table row or of the goals, as a float (a missing one counts 0).

    >>> figure(0.25), figure(3), figure(None)
    (0.25, 3.0, 0.0)
    """
    if value is None:
        return 0.0
    if not isinstance(value, Real):  # numpy's numbers too
        raise TypeError(f"a figure is a number, not {value!r}")
    return float(value)


def check(goal: str, value: object, op: str, wanted: object, basis: str = "", share: bool = False) -> dict[str, object]:
    """One goal: ``value op wanted`` (op ≥ or ≤; a missing value fails), ``basis`` how ``wanted``
    was reached (e.g. "1.1 × co-occurrence count's 0.078"); ``share``: printed as a percentage."""
    measured, target = figure(value), figure(wanted)
    met = measured >= target if op == "≥" else measured <= target
    return {
        "goal": goal,
        "value": measured,
        "op": op,
        "wanted": target,
        "met": bool(met),
        **({"basis": basis} if basis else {}),
        **({"share": True} if share else {}),
    }


def relative(goal: str, value: object, anchors: Sequence[Row], metric: str, ratio: object) -> dict[str, object]:
    """``value`` ≥ ``ratio`` × the best of ``anchors``' ``metric``."""
    best = max(anchors, key=lambda row: figure(row[metric]))
    best_figure, times = figure(best[metric]), figure(ratio)
    shown = f"{best_figure:.1%}" if metric == "coverage" else f"{best_figure:.3f}"
    basis = f"{'' if times == 1 else f'{times:g} × '}{best['method']}'s {shown}"
    return check(goal, value, "≥", times * best_figure, basis, metric == "coverage")
