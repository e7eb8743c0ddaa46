"""The evaluation as markdown: the film-to-film table, the personal table, and whether each meets
its goal. What `movierec evaluate` prints and what `make readme` writes into the README."""

from __future__ import annotations

from movierec.evaluation.split import describe

BEGIN, END = "<!-- evaluation:begin -->", "<!-- evaluation:end -->"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def film_table(evaluation: dict[str, object]) -> str:
    k = evaluation["k"]
    lines = [f"| method | precision@{k} | nDCG@{k} | coverage | collection recall |", "|---|---:|---:|---:|---:|"]
    for row in evaluation["table"]:  # type: ignore[attr-defined]
        lines.append(f"| {row['method']} | {row['precision_at_k']:.3f} | {_number(row.get('ndcg_at_k'))} | "
                     f"{row['coverage']:.1%} | {_number(row['collection_recall'])} |")
    lines.append(f"\n{evaluation['users']} evaluation users ({evaluation.get('split', describe())}), "
                 f"{evaluation['pairs']:,} (user, liked film) pairs, {evaluation['films']:,} films.")
    return "\n".join(lines)


def personal_table(evaluation: dict[str, object]) -> str:
    personal = evaluation["personal"]
    assert isinstance(personal, dict)
    k = personal["k"]
    lines = [f"| method | precision@{k} | recall@{k} | nDCG@{k} | coverage |", "|---|---:|---:|---:|---:|"]
    for row in personal["table"]:
        lines.append(f"| {row['method']} | {row['precision_at_k']:.3f} | {row['recall_at_k']:.3f} | "
                     f"{row['ndcg_at_k']:.3f} | {row['coverage']:.1%} |")
    als = personal.get("anchors", {}).get("als", {})
    note = (f" ALS: {als['factors']} factors, regularisation {als['regularization']} (chosen on the validation "
            f"users)." if "factors" in als else f" ALS: {als['skipped']}." if "skipped" in als else "")
    lines.append(f"\n{personal['users']} evaluation users with ≥ 5 likes: {personal['input_likes']:,} likes in, "
                 f"{personal['truth_likes']:,} held out; coverage can reach at most "
                 f"{_share(personal['coverage_ceiling'])} ({personal['users']} × {k} / {evaluation['films']:,} films).{note}")
    return "\n".join(lines)


def goals_text(evaluation: dict[str, object]) -> str:
    goals = evaluation.get("goals")
    if not isinstance(goals, dict):
        return ""
    film, personal = goals["film_to_film"], goals["personal"]
    return "\n".join([
        f"- film to film: {'met' if film['met'] else 'NOT met'} (wanted: precision ≥ the {film['anchor']}'s, "
        f"coverage ≥ {film['coverage_wanted']:.0%}, collection recall ≥ {film['collection_recall_wanted']})",
        f"- personal: {'met' if personal['met'] else 'NOT met'} (nDCG = {personal['ndcg_ratio']:.2f} × "
        f"{personal['best_anchor']}'s; wanted: ≥ {personal['ndcg_ratio_wanted']} ×, coverage ≥ "
        f"{personal['coverage_wanted']:.0%})",
    ])


def format_tables(evaluation: dict[str, object]) -> str:
    """Both tables and the goals, in markdown."""
    parts = ["Film to film (`/recomendacion`):", "", film_table(evaluation)]
    if "personal" in evaluation:
        parts += ["", "Personal (`/recomendacion_usuario`):", "", personal_table(evaluation)]
    if goals := goals_text(evaluation):
        parts += ["", "Goals:", "", goals]
    return "\n".join(parts)


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between the evaluation markers replaced by ``block``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN} … {END} are missing")
    return f"{text[: start + len(BEGIN)]}\n{block}\n{text[end:]}"
