"""Vectorized parsing of the Python-literal cells of the raw Kaggle files.

The nested columns (genres, cast, crew, keywords, ...) hold ``repr()`` output of lists of dicts:
single quotes, ``None``, escaped quotes, names like O'Brien written in double quotes. Calling
``ast.literal_eval`` per cell costs over a minute on the full credits file, so this module parses
whole columns with Polars' (Rust) regex engine instead:

* Fast path, nearly every cell: written exactly as ``repr`` writes it, with strings that hold no
  backslash, no brace, and, when double-quoted, no colon. In such a cell a key literal such as
  ``'name': `` cannot occur inside a string (a single-quoted string holds no quote, a
  double-quoted one no colon) and every brace is a dict boundary. When no dict repeats a
  wanted key and each wanted key occurs as often as there are dicts, every dict holds each
  wanted key exactly once, and one ``extract_all`` per key yields aligned columns.
* General path, every other cell: validated against the full grammar of a list of flat dicts
  (or one dict), then split into ``{`` and ``'key': value`` tokens, which stay aligned with the
  grammar because the cell was validated first. Strings holding backslash escapes are unescaped.

The result equals ``ast.literal_eval`` field by field (tests check this on the real sample and the
full-size stand-in). A cell that does not match the grammar, or whose value kinds do not match the
schema, is reported back by row so that the caller quarantines it.

Example:
    >>> import polars as pl
    >>> frame = pl.DataFrame({"genres": ["[{'id': 16, 'name': 'Animation'}]", "[]", "oops"]})
    >>> records, bad = parse_records(frame, "genres", {"id": "int", "name": "str"})
    >>> records.select("_row", "id", "name").rows()
    [(0, 16, 'Animation')]
    >>> bad.to_list()
    [2]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Literal

import polars as pl

Kind = Literal["int", "str"]

_STR = r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*\""""
_VALUE = rf"""(?:{_STR}|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|None|True|False)"""
# Keys in these files are plain identifiers written in single quotes; anything else is invalid.
_KV = rf"""'[^'\\]*'\s*:\s*{_VALUE}"""
_DICT = rf"""\{{\s*(?:{_KV}(?:\s*,\s*{_KV})*\s*,?)?\s*\}}"""
LIST_PATTERN = rf"""(?s)^\s*\[\s*(?:{_DICT}(?:\s*,\s*{_DICT})*\s*,?)?\s*\]\s*$"""
DICT_PATTERN = rf"""(?s)^\s*{_DICT}\s*$"""
_TOKEN = rf"""(?s)\{{|{_KV}"""

# Fast path pieces (see the module docstring).
_FAST_STR = r"""'[^'\\{}]*'|"[^"\\{}:]*\""""
_FAST_VALUE = rf"""(?:{_FAST_STR}|-?[0-9]+(?:\.[0-9]+)?|None|True|False)"""
_FAST_KV = rf"""'[A-Za-z_][A-Za-z0-9_]*': {_FAST_VALUE}"""
_FAST_DICT = rf"""\{{(?:{_FAST_KV}(?:, {_FAST_KV})*)?\}}"""
_FIRST_DICT_KEYS = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)': ")


def _fast_pattern(container: Literal["list", "dict"]) -> str:
    """The full-cell pattern of the fast grammar."""
    if container == "list":
        return rf"^\[(?:{_FAST_DICT}(?:, {_FAST_DICT})*)?\]$"
    return rf"^{_FAST_DICT}$"


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|N\{[^}]+\}|[0-7]{1,3}|.)", re.S)
_SIMPLE_ESCAPES = {
    "\n": "",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


def _unescape_match(match: re.Match[str]) -> str:
    code = match.group(1)
    head = code[0]
    if head in "xuUN" and len(code) == 1:
        # "\x4", "\u12", "\N" without a name: Python's parser rejects these
        raise ValueError(f"truncated \\{head} escape")
    if head in "xuU":
        point = int(code[1:], 16)
        if point > sys.maxunicode:
            raise ValueError(f"\\{code} is beyond the last Unicode code point")
        return chr(point)
    if head == "N":
        import unicodedata

        try:
            return unicodedata.lookup(code[2:-1])
        except KeyError:
            raise ValueError(f"unknown Unicode character name {code[2:-1][:40]!r}") from None
    if head in "01234567":
        return chr(int(code, 8))
    # Python keeps the backslash of an unknown escape such as "\d".
    return _SIMPLE_ESCAPES.get(code, "\\" + code)


def unescape(body: str) -> str:
    """Decode the escapes of a Python string literal's body (the text between its quotes).
    Raises ValueError where ``ast.literal_eval`` would raise a SyntaxError.

    >>> unescape(r"O\\'Brien \\xe9")
    "O'Brien é"
    >>> unescape(r"\\U00110000")
    Traceback (most recent call last):
    ...
    ValueError: \\U00110000 is beyond the last Unicode code point
    """
    return _ESCAPE.sub(_unescape_match, body)


def _decode_strings(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Quoted tokens -> str; the few holding a backslash are unescaped in Python. Returns the
    strings and a mask of the tokens whose escapes are invalid (their rows are quarantined)."""
    body = values.str.slice(1, values.str.len_chars() - 2)
    failed = pl.Series([False] * values.len(), dtype=pl.Boolean)
    escaped = body.str.contains("\\", literal=True).fill_null(False)
    if escaped.any():
        idx = escaped.arg_true()
        fixed: list[str | None] = []
        for text in body.gather(idx).to_list():
            try:
                fixed.append(unescape(text))
            except ValueError:
                fixed.append(None)
        fixed_series = pl.Series(fixed, dtype=pl.String)
        body = body.scatter(idx, fixed_series)
        failed = failed.scatter(idx, fixed_series.is_null())
    return body, failed


def valid_cells(column: str, container: Literal["list", "dict"] = "list") -> pl.Expr:
    """True where the cell is empty or parses under the grammar; null cells count as empty."""
    pattern = LIST_PATTERN if container == "list" else DICT_PATTERN
    col = pl.col(column)
    return col.is_null() | (col.str.strip_chars() == "") | col.str.contains(pattern)


def parse_records(
    frame: pl.DataFrame,
    column: str,
    schema: dict[str, Kind],
    container: Literal["list", "dict"] = "list",
    chunk_rows: int = 16384,
    on_chunk: Callable[[int], None] | None = None,
) -> tuple[pl.DataFrame, pl.Series]:
    """Unnest ``frame[column]`` into one row per dict with the ``schema`` fields.

    Returns ``(records, bad_rows)``: records has ``_row`` (the row's position in ``frame``),
    ``_pos`` (the dict's position in its list) and one typed column per schema key (null where
    the dict lacks it or holds None), in row and list order; ``bad_rows`` lists the positions of
    cells that did not parse. ``on_chunk(rows)`` is called after each slice (progress bars).
    """
    rows = frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), pl.col(column))
    # Slices bound the memory of the intermediate token lists (credits.csv is 190 MB of text).
    parts = []
    for start in range(0, max(rows.height, 1), chunk_rows):
        part = rows.slice(start, chunk_rows)
        parts.append(_parse_slice(part, column, schema, container))
        if on_chunk is not None:
            on_chunk(part.height)
    return pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts])


def _parse_slice(
    rows: pl.DataFrame, column: str, schema: dict[str, Kind], container: Literal["list", "dict"]
) -> tuple[pl.DataFrame, pl.Series]:
    fast_records, rest = _parse_fast(rows, column, schema, container)
    if not rest.height:
        return fast_records, pl.Series("_row", [], dtype=pl.UInt32)
    slow_records, bad = _parse_general(rest, column, schema, container)
    return pl.concat([fast_records, slow_records]).sort("_row", "_pos"), bad


def _parse_fast(
    rows: pl.DataFrame, column: str, schema: dict[str, Kind], container: Literal["list", "dict"]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The fast path: one extract_all per key, all expressions evaluated in one parallel select.

    Returns (records, rows left for the general path: off the fast grammar, a wanted key
    repeated in a dict or missing from one, or a value of the wrong kind).
    """
    col = pl.col(column)
    n = pl.col("_n")
    repeated = "|".join(f"'{re.escape(k)}': [^{{]*'{re.escape(k)}': " for k in schema)
    lists = (
        rows.lazy()
        .select(
            "_row",
            col.str.contains(_fast_pattern(container)).fill_null(False).alias("_grammar"),
            col.str.contains(repeated).fill_null(False).alias("_repeated"),
            col.str.count_matches("{", literal=True).alias("_n"),
            *[col.str.extract_all(f"'{k}': {_FAST_VALUE}").alias(k) for k in schema],
        )
        .with_columns(
            _ok=pl.col("_grammar") & ~pl.col("_repeated") & pl.all_horizontal(pl.col(k).list.len() == n for k in schema)
        )
        .collect()
    )
    records = (
        lists.lazy()
        .filter(pl.col("_ok") & (n > 0))
        .select("_row", pl.int_ranges(n, dtype=pl.UInt32).alias("_pos"), *schema)
        .explode(["_pos", *schema])
        .select("_row", "_pos", *[e for key, kind in schema.items() for e in _fast_value(key, kind)])
        .collect()
    )
    wrong = records.filter(pl.any_horizontal(pl.col(f"_wrong_{k}") for k in schema))["_row"]
    rejected = pl.concat([lists.filter(~pl.col("_ok"))["_row"], wrong.unique()])
    if wrong.len():
        records = records.filter(~pl.col("_row").is_in(wrong.implode()))
    rest = rows.filter(pl.col("_row").is_in(rejected.implode())) if rejected.len() else rows.clear()
    return records.select("_row", "_pos", *schema), rest


def _fast_value(key: str, kind: Kind) -> list[pl.Expr]:
    """Decode the `'key': value` tokens of the fast path (no escapes there); flag wrong kinds."""
    token = pl.col(key).str.slice(len(key) + 4)
    if kind == "str":
        quoted = token.str.starts_with("'") | token.str.starts_with('"')
        value = pl.when(quoted).then(token.str.slice(1).str.head(-1))
        return [value.alias(key), ~(quoted | (token == "None")).alias(f"_wrong_{key}")]
    number = token.cast(pl.Int64, strict=False)
    return [number.alias(key), (number.is_null() & (token != "None")).alias(f"_wrong_{key}")]


def _parse_general(
    rows: pl.DataFrame, column: str, schema: dict[str, Kind], container: Literal["list", "dict"]
) -> tuple[pl.DataFrame, pl.Series]:
    """Any cell: validate against the full grammar, then tokenize it."""
    ok = rows.select(valid_cells(column, container)).to_series()
    bad_rows = rows.filter(~ok)["_row"]
    tokens = (
        rows.lazy()
        .filter(ok)
        .select("_row", pl.col(column).str.extract_all(_TOKEN).alias("tok"))
        .explode("tok")
        .drop_nulls("tok")
        .with_columns((pl.col("tok") == "{").cum_sum().alias("_rec"))
        .collect()
    )
    is_start = tokens["tok"] == "{"
    records = tokens.filter(is_start).select(
        "_rec", "_row", (pl.int_range(pl.len(), dtype=pl.UInt32).over("_row")).alias("_pos")
    )
    pairs = tokens.filter(~is_start)

    invalid: list[pl.Series] = [bad_rows]
    for key, kind in schema.items():
        # Keys hold no quote, so the token of key k starts with exactly 'k' (quotes included).
        prefix = f"'{key}'"
        field = pairs.filter(pl.col("tok").str.starts_with(prefix)).select(
            "_rec", "_row", pl.col("tok").str.slice(len(prefix)).str.strip_chars_start(": \t\r\n")
        )
        if field.height and field["_rec"].n_unique() != field.height:
            # Repeated key inside one dict: literal_eval keeps the last one.
            field = field.unique("_rec", keep="last", maintain_order=True)
        decoded, wrong = _decode(field["tok"], kind)
        invalid.append(field.filter(wrong)["_row"])
        column_values = field.select("_rec", decoded.alias(key))
        if column_values.height == records.height and column_values["_rec"].equals(records["_rec"]):
            records = records.with_columns(column_values[key])  # every dict has the key: aligned
        else:
            records = records.join(column_values, on="_rec", how="left", maintain_order="left")
    bad = pl.concat(invalid).unique().sort()
    if bad.len() > bad_rows.len():
        records = records.filter(~pl.col("_row").is_in(bad.implode()))
    return records.drop("_rec"), bad


def _decode(values: pl.Series, kind: Kind) -> tuple[pl.Series, pl.Series]:
    """Decode value tokens of one kind; returns (values, mask of tokens of the wrong kind)."""
    is_none = values == "None"
    if kind == "str":
        ok = values.str.starts_with("'") | values.str.starts_with('"')
        decoded, failed = _decode_strings(values) if ok.any() else (values, None)
        if failed is not None:
            ok = ok & ~failed
    else:
        ok = values.str.contains(r"^-?[0-9]+$")
        decoded = values.cast(pl.Int64, strict=False)
    frame = pl.DataFrame({"v": decoded, "ok": ok})
    decoded = frame.select(pl.when("ok").then("v")).to_series()
    return decoded, ~(ok | is_none)
