"""The evaluation as markdown: the film-to-film table, the personal table, and whether each meets
its goal. What `movierec evaluate` prints and what `make readme` writes into the README."""

from __future__ import annotations

from collections.abc import Callable

from movierec.evaluation.cold import COLD, FIRST_WEEKS, VOTE_CAP, WARM
from movierec.evaluation.goals import figure
from movierec.protocol.metrics import BETA, GENERIC_FILMS, HEAD_FILMS
from movierec.protocol.split import split_description

BEGIN, END = "<!-- evaluation:begin -->", "<!-- evaluation:end -->"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def film_table(evaluation: dict[str, object]) -> str:
    k = evaluation["k"]
    lines = [
        f"| method | precision@{k} | nDCG@{k} | coverage | collection recall | stratified precision@{k} | "
        "generic share | adjacent collection recall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in evaluation["table"]:  # type: ignore[attr-defined]
        lines.append(
            f"| {row['method']} | {row['precision_at_k']:.3f} | {_number(row.get('ndcg_at_k'))} | "
            f"{row['coverage']:.1%} | {_number(row['collection_recall'])} | "
            f"{_number(row.get('stratified_precision_at_k'))} | {_share(row.get('generic_share'))} | "
            f"{_number(row.get('adjacent_collection_recall'))} |"
        )
    lines.append(
        f"\n{evaluation['users']} evaluation users ({evaluation.get('split', split_description())}), "
        f"{evaluation['pairs']:,} (user, liked film) pairs, {evaluation['films']:,} films. Stratified: "
        f"hits weighted by 1/likes^{BETA} (likes of training users), over the best possible list; generic "
        f"share: slots of the {HEAD_FILMS} most-voted films' lists held by the {GENERIC_FILMS} most-liked films."
    )
    return "\n".join(lines)


def personal_table(evaluation: dict[str, object]) -> str:
    personal = evaluation["personal"]
    assert isinstance(personal, dict)
    k = personal["k"]
    lines = [
        f"| method | precision@{k} | recall@{k} | nDCG@{k} | stratified recall@{k} | coverage |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in personal["table"]:
        lines.append(
            f"| {row['method']} | {row['precision_at_k']:.3f} | {row['recall_at_k']:.3f} | "
            f"{row['ndcg_at_k']:.3f} | {_number(row.get('stratified_recall_at_k'))} | {row['coverage']:.1%} |"
        )
    als = personal.get("anchors", {}).get("als", {})
    note = (
        f" ALS: {als['factors']} factors, regularisation {als['regularization']} (chosen on the validation users)."
        if "factors" in als
        else f" ALS: {als['skipped']}."
        if "skipped" in als
        else ""
    )
    lines.append(
        f"\n{personal['users']} evaluation users with ≥ 5 likes: {personal['input_likes']:,} likes in, "
        f"{personal['truth_likes']:,} held out; coverage can reach at most "
        f"{_share(personal['coverage_ceiling'])} ({personal['users']} × {k} / {evaluation['films']:,} films).{note}"
    )
    return "\n".join(lines)


def check_text(check: dict[str, object]) -> str:
    """One goal: "name: met (value; wanted ≥ x = basis)"."""
    basis = f" = {check['basis']}" if check.get("basis") else ""
    shown = _share if check.get("share") else _number
    return (
        f"{check['goal']}: {'met' if check['met'] else 'NOT met'} ({shown(figure(check['value']))}; wanted "
        f"{check['op']} {shown(figure(check['wanted']))}{basis})"
    )


def checks_text(name: str, goal: object) -> list[str]:
    """The lines of one table's goals (each check, or the old single line of an older evaluation)."""
    if not isinstance(goal, dict):
        return []
    if isinstance(goal.get("checks"), list):
        return [f"- {name}, {check_text(check)}" for check in goal["checks"]]
    return [f"- {name}: {'met' if goal.get('met') else 'NOT met'}"]


def goals_text(evaluation: dict[str, object]) -> str:
    goals = evaluation.get("goals")
    if not isinstance(goals, dict):
        return ""
    cold = evaluation.get("cold")
    return "\n".join(
        [
            *checks_text("film to film", goals.get("film_to_film")),
            *checks_text("personal", goals.get("personal")),
            *(checks_text("cold start", cold.get("goals")) if isinstance(cold, dict) else []),
        ]
    )


def _cold_source(cold: dict[str, object]) -> str:
    if "salt" in cold:
        return (
            f"{cold['fraction']:.1%} of the catalogue: of the films ≥ {cold['min_likes']} training users liked, "
            f'those with the smallest blake2b hash of "{cold["salt"]}:<TMDB id>"'
        )
    return f"given in a file: {cold['given']:,} ids, {cold['not_in_catalogue']:,} not in the catalogue"


def cold_table(cold: dict[str, object]) -> str:
    """The cold-start tables (:mod:`movierec.evaluation.cold_run`) in markdown."""
    own, personal = cold["own"], cold["personal"]
    assert isinstance(own, list) and isinstance(personal, dict)
    k, p, people = cold["k"], personal["k"], {row["method"]: row for row in personal["table"]}
    methods = [str(row["method"]) for row in own]
    warm = next((row["exposure"] for row in own if row["method"] == WARM), 0)

    def line(what: str, cells: list[str]) -> str:
        return f"| {what} | {' | '.join(cells)} |"

    def exposure(row: dict[str, object]) -> str:
        slots = int(row["exposure"])  # type: ignore[call-overload]
        return f"{slots:,} ({slots / warm:.0%})" if row["method"] in (COLD, FIRST_WEEKS) and warm else f"{slots:,}"

    def personal_cells(metric: str, shown: Callable[[object], str]) -> list[str]:
        return [shown(people[m][metric]) if m in people else "—" for m in methods]

    lines = [
        line("what", methods),
        "|---|" + "---:|" * len(methods),
        line(f"cold films' own top {k}: precision@{k}", [f"{r['precision_at_k']:.3f}" for r in own]),
        line(f"the same, stratified precision@{k}", [f"{r['stratified_precision_at_k']:.3f}" for r in own]),
        line("the same, generic share", [_share(r["generic_share"]) for r in own]),
        line(f"slots they hold in all films' top {k}", [exposure(r) for r in own]),
        line(f"personal: recall@{p} of the cold likes", personal_cells("recall_at_k", lambda v: f"{v:.3f}")),
        line(f"the same, stratified recall@{p}", personal_cells("stratified_recall_at_k", lambda v: f"{v:.3f}")),
        line("personal lists holding any cold film", personal_cells("reach", lambda v: f"{v:,}")),
    ]
    return "\n".join(
        [
            f"{cold['films']:,} cold films ({_cold_source(cold)}), every like of them dropped before training; "
            f"{cold['pairs']:,} (evaluation user, liked cold film) pairs of {cold['users']:,} users.",
            "",
            *lines,
            "",
            f"Personal: {personal['users']:,} evaluation users who liked a cold film and another film; their "
            f"{personal['input_likes']:,} likes of other films in, their {personal['truth_likes']:,} cold likes the truth. "
            f"{FIRST_WEEKS.capitalize()}: the cold films' vote_count capped at {VOTE_CAP} and popularity at the catalogue "
            f"median, as in their first weeks on TMDB (no target).",
        ]
    )


def format_tables(evaluation: dict[str, object]) -> str:
    """Both tables (the cold-start one too, when measured) and the goals, in markdown."""
    parts = ["Film to film (`/recomendacion`):", "", film_table(evaluation)]
    if "personal" in evaluation:
        parts += ["", "Personal (`/recomendacion_usuario`):", "", personal_table(evaluation)]
    if isinstance(cold := evaluation.get("cold"), dict):
        parts += ["", "Cold start (`movierec evaluate --cold`):", "", cold_table(cold)]
    if goals := goals_text(evaluation):
        parts += ["", "Goals:", "", goals]
    return "\n".join(parts)


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between the evaluation markers replaced by ``block``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN} … {END} are missing")
    return f"{text[: start + len(BEGIN)]}\n{block}\n{text[end:]}"
