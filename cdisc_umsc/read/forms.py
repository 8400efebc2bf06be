"""Read raw CRF form exports (CSV) strictly, keeping each record's provenance; the checks
every reader's frame goes through.

Every data row keeps its file row number in ``__row`` (1 = first data row after the header);
dates, date-times and times are parsed to ISO 8601 text at read time per the field's declared
format and unknown-part tokens. Anything the spec
does not expect is a one-line InputError naming file, row and column.

The other readers (SAS datasets, Excel sheets, ODM ClinicalData) hand their records to
:func:`check_form`, so that every form, whatever its export, is checked alike and comes out as
the same text frame; a record whose row number alone does not say where it is (an ODM
record's subject, event, form and item group) also carries that place in ``__where``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.identifiers import pattern_in
from cdisc_umsc.core.values import to_number
from cdisc_umsc.metadata.model import FormSpec

ROW = "__row"
FORM = "__form"
#: a record's place in its export where the row number does not say it (ODM path)
WHERE = "__where"


def _field_name(form: FormSpec, column: str) -> str:
    spec = next((f for f in form.fields if f.name == column), None)
    if spec is not None and spec.item:
        return f"item {spec.item} (field {column})"
    if spec is not None and spec.odm:
        return f"field {column} ({spec.odm})"
    return f"column {column}"


def _fail(form: FormSpec, row: int | str | None, column: str | None, message: str) -> InputError:
    """The one-line error: the form's source, the record (a row number, or its place in
    the export), the field."""
    where = form.source
    if row is not None:
        where += f": row {row}" if isinstance(row, int | np.integer) else f": {row}"
    if column is not None:
        name = _field_name(form, column)
        where += f", {name}" if row is not None else f": {name}"
    return InputError(f"{where}: {message}")


def record_of(frame: pd.DataFrame, pos: int) -> int | str:
    """How an error names the record at position ``pos``: its place, else its row."""
    if WHERE in frame.columns:
        return str(frame[WHERE].iloc[pos])
    return int(frame[ROW].iloc[pos])


def record_error(
    form: FormSpec, frame: pd.DataFrame, pos: int, column: str | None, message: str
) -> InputError:
    """The one-line error for the record at position ``pos`` of a form's frame."""
    return _fail(form, record_of(frame, pos), column, message)


def _first_bad(
    form: FormSpec, frame: pd.DataFrame, mask: pd.Series, column: str, message: str
) -> None:
    """Raise for the first row where ``mask`` is true (the value is shown unless the field
    is a declared direct identifier: an error message never repeats one)."""
    if mask.any():
        pos = int(np.flatnonzero(mask.to_numpy())[0])
        shown = _shown(form, column, frame[column].iloc[pos])
        raise record_error(form, frame, pos, column, f"{message} {shown}")


def _shown(form: FormSpec, column: str, value: object) -> str:
    """How an error shows a bad value: ``(got '...')``, never for a declared identifier."""
    if any(f.name == column and f.identifier for f in form.fields):
        return "(value not shown: a direct identifier)"
    kind = pattern_in(str(value))
    if kind is not None:
        return f"(value not shown: it holds {kind})"
    return f"(got {value!r})"


#: C0 and C1 control characters and DEL, but tab and line breaks: bytes that are no text
#: (U+0001, ANSI escape sequences) and would reach a transport file unseen
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _parser_problem(detail: str) -> tuple[int | None, str]:
    """pandas' parser message as (data row, what is wrong) in the reader's words."""
    detail = detail.removeprefix("Error tokenizing data. C error: ")
    unclosed = re.fullmatch(r"EOF inside string starting at row ([0-9]+)", detail)
    if unclosed:
        return int(unclosed.group(1)), (
            'a quoted field starts here and is never closed (a " without its closing ")'
        )
    fields = re.fullmatch(r"Expected ([0-9]+) fields in line ([0-9]+), saw ([0-9]+)", detail)
    if fields:
        want, line, saw = fields.groups()
        return None, f"line {line} has {saw} fields, the header {want}"
    return None, detail


def _check_length(form: FormSpec, frame: pd.DataFrame, distinct: dict[str, _Distinct]) -> None:
    """Refuse a value longer than :data:`MAX_FIELD` characters (not shown: it is huge)."""
    for spec in form.fields:
        col = distinct[spec.name]
        length = pd.Series(col.values, dtype=object).astype(str).str.len().to_numpy()
        long = col.spread(length > MAX_FIELD)
        if long.any():
            pos = int(np.flatnonzero(long)[0])
            raise record_error(
                form,
                frame,
                pos,
                spec.name,
                f"a value of {int(length[col.codes[pos]])} characters, longer than the "
                f"{MAX_FIELD} a raw value may have (a quote never closed?)",
            )


def _check_controls(form: FormSpec, frame: pd.DataFrame, distinct: dict[str, _Distinct]) -> None:
    """Refuse a value holding a control character, naming its code point and position."""
    for spec in form.fields:
        col = distinct[spec.name]
        text = pd.Series(col.values, dtype=object)
        # a missing value (a reader's NaN) holds no character
        bad = (text.notna() & text.astype(str).str.contains(_CONTROL)).to_numpy(dtype=bool)
        if not bad.any():
            continue
        pos = int(np.flatnonzero(col.spread(bad))[0])
        value = str(col.values[col.codes[pos]])
        hit = _CONTROL.search(value)
        assert hit is not None
        raise record_error(
            form,
            frame,
            pos,
            spec.name,
            f"control character U+{ord(hit.group()):04X} at character {hit.start() + 1} "
            "(text may hold printable characters, tabs and line breaks only)",
        )


def _read_text(path: Path, form: FormSpec, encoding: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail(form, None, None, f"raw form file not found in {path.parent}") from None
    except OSError as exc:
        raise _fail(form, None, None, f"cannot read file ({exc.strerror})") from None
    if not data.strip():
        raise _fail(form, None, None, "file is empty (expected a header row)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte-order mark is unambiguous; Excel writes it
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _fail(
            form,
            None,
            None,
            f"line {line}: byte 0x{data[exc.start]:02X} is not valid {encoding} "
            "(re-export the form as UTF-8, or declare the export's encoding in study.yaml "
            "raw: encoding:, e.g. cp1252)",
        ) from None


#: The longest raw value read (the csv module's default field limit): a longer one is far
#: beyond any SDTM text (SUPP-- splits 200-byte pieces) and most often a quote never closed.
MAX_FIELD = 131_072
#: a carriage return that does not start a CRLF line end
_LONE_CR = re.compile("\r(?!\n)")


def _csv_rows(form: FormSpec, text: str) -> list[list[str]]:
    """The non-empty rows of a quoted CSV; a row the csv module cannot parse is a one-line
    error naming it (the field limit is lifted while parsing: :data:`MAX_FIELD` is checked on
    the values, naming row and column)."""
    rows: list[list[str]] = []
    limit = csv.field_size_limit(max(len(text), MAX_FIELD) + 1)
    try:
        for r in csv.reader(io.StringIO(text)):
            if r:
                rows.append(r)
    except csv.Error as exc:
        row = len(rows) if rows else None
        raise _fail(form, row, None, f"malformed CSV: {exc}") from None
    finally:
        csv.field_size_limit(limit)
    return rows


def _field_counts(text: str, rows: list[list[str]] | None) -> np.ndarray:
    """Fields per data row (pandas pads short rows silently, so they are counted here), from
    the parsed ``rows`` of a quoted CSV, else from the lines of ``text``."""
    if rows is None:
        lines = text.split("\n")[1:]
        commas = np.fromiter(map(str.count, lines, repeat(",")), dtype="int64", count=len(lines))
        # only a line without a comma can be blank
        keep = np.ones(len(lines), dtype=bool)
        for i in np.flatnonzero(commas == 0):
            keep[i] = bool(lines[i].strip())
        return commas[keep] + 1
    rows = rows[1:]
    return np.fromiter((len(r) for r in rows), dtype="int64", count=len(rows))


def read_form(
    raw_dir: Path, form: FormSpec, encoding: str = "utf-8", cutoff: str | None = None
) -> pd.DataFrame:
    """Read and check one form; returns its rows as text plus ``__row`` and ``__form``.

    ``cutoff`` (the study's data cut-off, ISO 8601): a date after it is an error.
    """
    text = _read_text(raw_dir / form.file, form, encoding)
    if "\r" in text and "\n" not in text:
        raise _fail(
            form,
            None,
            None,
            "lines end in CR only (classic Mac OS); re-export the form with LF or CRLF line ends",
        )
    rows: list[list[str]] | None = None
    if '"' in text:
        rows = _csv_rows(form, text)
        header = rows[0]
    else:
        # pandas would end a row at a lone CR, the row count below would not: refuse it
        lone = _LONE_CR.search(text) if "\r" in text else None
        if lone is not None:
            line = text.count("\n", 0, lone.start()) + 1
            raise _fail(
                form,
                None,
                None,
                f"line {line}: a CR line end inside a file of LF line ends (mixed line ends)",
            )
        header = text.split("\n", 1)[0].split(",")
    header = [h.strip() for h in header]
    check_columns(form, header, "the header")
    widths = _field_counts(text, rows)
    long = widths > len(header)
    if long.any():
        pos = int(np.flatnonzero(long)[0])
        raise _fail(
            form,
            pos + 1,
            header[-1],
            f"row has {int(widths[pos])} fields, more fields "
            f"than the header's {len(header)} (an unquoted comma in a value?)",
        )
    try:
        frame = pd.read_csv(
            # the parser reads bytes: handing it UTF-8 saves pandas' chunked re-encoding of
            # a text buffer (a copy of the rest at each multi-byte character cut)
            io.BytesIO(text.encode("utf-8")),
            encoding="utf-8",
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            on_bad_lines="error",
            engine="c",
        )
    except pd.errors.ParserError as exc:
        row, detail = _parser_problem(str(exc).strip().splitlines()[-1])
        raise _fail(form, row, None, f"malformed CSV: {detail}") from None
    frame.columns = header
    frame.insert(0, ROW, np.arange(1, len(frame) + 1, dtype="int64"))
    short = widths < len(header)
    if short.any():
        pos = int(np.flatnonzero(short)[0])
        col = header[int(widths[pos])] if widths[pos] < len(header) else header[-1]
        raise _fail(form, pos + 1, col, "row has fewer fields than the header (truncated file?)")
    return check_form(form, frame, cutoff)


def check_columns(form: FormSpec, names: list[str], holder: str) -> None:
    """The columns an export holds must be exactly the form's declared fields, once each."""
    seen: set[str] = set()
    for col in names:
        if col in seen:
            raise _fail(form, None, col, f"duplicated column in {holder}")
        seen.add(col)
    expected = [f.name for f in form.fields]
    missing = [c for c in expected if c not in seen]
    if missing:
        raise _fail(form, None, missing[0], f"column missing from {holder} (the spec declares it)")
    extra = [c for c in names if c not in set(expected)]
    if extra:
        raise _fail(form, None, extra[0], "unexpected column (not declared in the spec's form)")


def check_form(form: FormSpec, frame: pd.DataFrame, cutoff: str | None = None) -> pd.DataFrame:
    """Check one form's records, whichever reader made them, and return them as text.

    ``frame`` holds the declared fields as text plus ``__row`` (and ``__where`` where a row
    number alone does not place a record); values are stripped, typed fields checked, dates
    turned into ISO 8601 text, no date may follow ``cutoff`` and the key must be unique.
    Every check is done once per distinct value of a field.
    """
    distinct = {f.name: _Distinct.of(frame[f.name]) for f in form.fields}
    for name, col in distinct.items():
        frame[name] = col.column(frame.index)
    _check_length(form, frame, distinct)
    _check_controls(form, frame, distinct)
    _check_fields(form, frame, distinct)
    if cutoff:
        _check_cutoff(form, frame, cutoff, distinct)
    _check_key(form, frame)
    frame[FORM] = form.name
    return frame


@dataclass
class _Distinct:
    """A field's values as the distinct values and, per record, the position of its own."""

    codes: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, col: pd.Series) -> _Distinct:
        """Values without surrounding blanks, as object text; each distinct value stripped
        once (a missing value, code -1, takes the last distinct value, as indexing does)."""
        codes, uniq = pd.factorize(col.astype(object))
        stripped = pd.Series(uniq, dtype=object).str.strip().to_numpy(dtype=object)
        if len(stripped):
            codes = np.where(codes < 0, len(stripped) - 1, codes)
        return cls(codes, stripped)

    def spread(self, per_value: np.ndarray) -> np.ndarray:
        """A result per distinct value, per record."""
        return np.asarray(per_value)[self.codes]

    def column(self, index: pd.Index) -> pd.Series:
        """The values per record, as object text."""
        return pd.Series(self.values[self.codes], index=index, dtype=object)


def _check_fields(form: FormSpec, frame: pd.DataFrame, distinct: dict[str, _Distinct]) -> None:
    for spec in form.fields:
        col = distinct[spec.name]
        values = pd.Series(col.values, dtype=object)

        def first_bad(
            mask: pd.Series, message: str, name: str = spec.name, col: _Distinct = col
        ) -> None:
            _first_bad(form, frame, pd.Series(col.spread(mask.to_numpy(dtype=bool))), name, message)

        present = values != ""
        if spec.type in ("integer", "number"):
            num = to_number(values.where(present))
            what = "a whole number" if spec.type == "integer" else "a number"
            first_bad(present & num.isna(), f"expected {what}")
            if spec.type == "integer":
                first_bad(present & (num % 1 != 0), "expected a whole number")
            if spec.min is not None:
                first_bad(present & (num < spec.min), f"below the allowed minimum {spec.min:g}")
            if spec.max is not None:
                first_bad(present & (num > spec.max), f"above the allowed maximum {spec.max:g}")
        elif spec.type in ("date", "datetime", "time"):
            fmt = iso8601.raw_format(spec.format or "hh:mm", spec.type, spec.unknown)
            iso, err = _parsed(values.fillna("").astype(str).astype(object), fmt)
            bad = col.spread(err != "")
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                code = col.codes[pos]
                raise record_error(
                    form,
                    frame,
                    pos,
                    spec.name,
                    f"{err[code]} {_shown(form, spec.name, col.values[code])}",
                )
            distinct[spec.name] = _Distinct(col.codes, iso)
            frame[spec.name] = distinct[spec.name].column(frame.index)


#: raw dates, date-times and times parsed so far, per format: (ISO 8601 text, error text);
#: forms share their dates (a visit's date is on every form of the visit)
_PARSED: dict[iso8601.RawFormat, dict[str, tuple[str, str]]] = {}
#: values remembered at most (then forgotten, all at once)
_REMEMBERED = 200_000


def _parsed(values: pd.Series, fmt: iso8601.RawFormat) -> tuple[np.ndarray, np.ndarray]:
    """:func:`iso8601.parse_raw_distinct` of text ``values``: (ISO 8601 text, error text)
    per value, each value parsed once per format."""
    if sum(map(len, _PARSED.values())) > _REMEMBERED:
        _PARSED.clear()
    known = _PARSED.setdefault(fmt, {})
    new = [v for v in dict.fromkeys(values) if v not in known]
    if new:
        iso, err = iso8601.parse_raw_distinct(pd.Series(new, dtype=object), fmt)
        known.update(zip(new, zip(iso.tolist(), err.tolist(), strict=True), strict=True))
    found = [known[v] for v in values]
    return (
        np.array([f[0] for f in found], dtype=object),
        np.array([f[1] for f in found], dtype=object),
    )


#: (data cut-off, ISO 8601 date) -> whether the date lies wholly after the cut-off
_AFTER: dict[tuple[pd.Timestamp, str], bool] = {}


def _after(values: np.ndarray, limit: pd.Timestamp) -> np.ndarray:
    """Per ISO 8601 date: its first day is after ``limit`` (each value computed once)."""
    if len(_AFTER) > _REMEMBERED:
        _AFTER.clear()
    new = [v for v in dict.fromkeys(values) if (limit, v) not in _AFTER]
    if new:
        first, _last = iso8601.date_bounds_distinct(pd.Series(new, dtype=object))
        after = (first > limit).fillna(False).to_numpy(dtype=bool)
        _AFTER.update(zip(((limit, v) for v in new), after.tolist(), strict=True))
    return np.array([_AFTER[(limit, v)] for v in values], dtype=bool)


def _check_cutoff(
    form: FormSpec, frame: pd.DataFrame, cutoff: str, distinct: dict[str, _Distinct]
) -> None:
    """No collected date may lie wholly after the data cut-off (a partial date: its first day)."""
    limit = pd.Timestamp(str(cutoff)[:10])
    for spec in form.fields:
        if spec.type in ("date", "datetime"):
            col = distinct[spec.name]
            after = _after(col.values, limit)
            _first_bad(
                form,
                frame,
                pd.Series(col.spread(after)),
                spec.name,
                f"date after the data cut-off {limit.date().isoformat()} (study created:)",
            )


def _check_key(form: FormSpec, frame: pd.DataFrame) -> None:
    if not form.key:
        return
    key = list(form.key)
    # an ODM record's repeat key is absent where its event, form or group does not repeat
    required = [
        f.name for f in form.fields if f.name in key and not (f.odm or "").endswith("RepeatKey")
    ]
    blank = (frame[required] == "").any(axis=1)
    if blank.any():
        pos = int(np.flatnonzero(blank.to_numpy())[0])
        col = next(c for c in required if frame[c].iloc[pos] == "")
        raise record_error(form, frame, pos, col, "key field is blank")
    # a numeric key compares as a number: AESPID 1.0 and 1 are one key written two ways
    numeric = {f.name for f in form.fields if f.type in ("integer", "number")}
    keys = pd.DataFrame(
        {c: to_number(frame[c]) if c in numeric else frame[c] for c in key}, index=frame.index
    )
    dup = keys.duplicated(keep="first")
    if dup.any():
        pos = int(np.flatnonzero(dup.to_numpy())[0])
        same = np.flatnonzero((~dup & (keys == keys.iloc[pos]).all(axis=1)).to_numpy())
        first = record_of(frame, int(same[0]))
        values = ", ".join(f"{c}={frame[c].iloc[pos]!r}" for c in key)
        earlier = f"row {first}" if isinstance(first, int) else first
        raise record_error(
            form, frame, pos, key[-1], f"duplicate record: {values} already on {earlier}"
        )
