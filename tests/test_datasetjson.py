"""Dataset-JSON 1.1 writer and reader: exact bytes, schema validity, losslessness, clear errors."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_umsc.core.errors import InputError, WriteError
from cdisc_umsc.metadata.model import Dataset, Study, Variable
from cdisc_umsc.read.datasetjson import read_datasetjson
from cdisc_umsc.write.datasetjson import (
    MAX_DAY,
    MIN_DAY,
    column_types,
    sas_format_kind,
    write_datasetjson,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DJ = SHARED / "reference" / "dataset-json-1.1"
PILOT = SHARED / "reference" / "cdiscpilot01"
CREATED = "2025-01-02T03:04:05"
STUDY = Study("UMSC-01", "SDTMIG", "3.4", "2025-03-28")


def _schema_validator():
    """Draft 2019-09 validator of the Dataset-JSON 1.1 schema, or skip."""
    jsonschema = pytest.importorskip("jsonschema")
    path = DJ / "schema" / "dataset.schema.json"
    if not path.exists():
        pytest.skip("../shared Dataset-JSON schema is absent")
    return jsonschema.Draft201909Validator(json.loads(path.read_text()))


def _document(path: Path) -> dict:
    """The Dataset-JSON object of a .json file, or rebuilt from a .ndjson file."""
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    first, *rows = path.read_bytes().decode("utf-8").split("\n")[:-1]
    return {**json.loads(first), "rows": [json.loads(r) for r in rows]}


def _small() -> tuple[pd.DataFrame, Dataset]:
    """Three ADaM-like rows covering every column kind, a missing value of each and ''."""
    frame = pd.DataFrame(
        {
            "STUDYID": pd.Series(["UMSC-01", "UMSC-01", "UMSC-01"], dtype="str"),
            "USUBJID": pd.Series(["01-001", "01-002", None], dtype="str"),
            "AGE": [61.0, np.nan, 7.0],
            "AVAL": [1.5, 0.1, np.nan],
            "TRTSDT": [0.0, 22281.0, np.nan],
            "ADTM": [1.5, np.nan, 1925078400.0],
            "ATM": [3661.0, 0.25, np.nan],
            "COMMENT": pd.Series(["", "caf\u00e9 \u2028", None], dtype="str"),
        }
    )
    v = [
        Variable("STUDYID", "Study Identifier", "Char", 1, length=7, key_sequence=1),
        Variable("USUBJID", "Unique Subject Identifier", "Char", 2, key_sequence=2),
        Variable("AGE", "Age", "Num", 3, data_type="integer"),
        Variable("AVAL", "Analysis Value", "Num", 4, data_type="float"),
        Variable(
            "TRTSDT", "Date of First Exposure", "Num", 5, data_type="integer", format="DATE9."
        ),
        Variable("ADTM", "Analysis Datetime", "Num", 6, format="DATETIME20."),
        Variable("ATM", "Analysis Time", "Num", 7, data_type="time", format="TIME8."),
        Variable("COMMENT", "Comment", "Char", 8),
    ]
    return frame, Dataset("ADXX", "Test Analysis", "BDS", "", "ADaMIG", variables=tuple(v))


EXPECTED_JSON = (
    '{"datasetJSONCreationDateTime":"2025-01-02T03:04:05","datasetJSONVersion":"1.1.0",'
    '"studyOID":"STUDY.UMSC-01","metaDataVersionOID":"MDV.UMSC-01.SDTMIG.3.4",'
    '"metaDataRef":"define.xml","itemGroupOID":"IG.ADXX","records":3,"name":"ADXX",'
    '"label":"Test Analysis","columns":['
    '{"itemOID":"IT.ADXX.STUDYID","name":"STUDYID","label":"Study Identifier",'
    '"dataType":"string","length":7,"keySequence":1},'
    '{"itemOID":"IT.ADXX.USUBJID","name":"USUBJID","label":"Unique Subject Identifier",'
    '"dataType":"string","length":6,"keySequence":2},'
    '{"itemOID":"IT.ADXX.AGE","name":"AGE","label":"Age","dataType":"integer"},'
    '{"itemOID":"IT.ADXX.AVAL","name":"AVAL","label":"Analysis Value","dataType":"double"},'
    '{"itemOID":"IT.ADXX.TRTSDT","name":"TRTSDT","label":"Date of First Exposure",'
    '"dataType":"date","targetDataType":"integer","displayFormat":"DATE9."},'
    '{"itemOID":"IT.ADXX.ADTM","name":"ADTM","label":"Analysis Datetime",'
    '"dataType":"datetime","targetDataType":"integer","displayFormat":"DATETIME20."},'
    '{"itemOID":"IT.ADXX.ATM","name":"ATM","label":"Analysis Time",'
    '"dataType":"time","targetDataType":"integer","displayFormat":"TIME8."},'
    '{"itemOID":"IT.ADXX.COMMENT","name":"COMMENT","label":"Comment","dataType":"string",'
    '"length":9}],"rows":['
    '["UMSC-01","01-001",61,1.5,"1960-01-01","1960-01-01T00:00:01.5","01:01:01",""],'
    '["UMSC-01","01-002",null,0.1,"2021-01-01",null,"00:00:00.25","caf\u00e9 \u2028"],'
    '["UMSC-01",null,7,null,null,"2021-01-01T00:00:00",null,null]]}\n'
)


def test_json_bytes_are_exact(tmp_path: Path) -> None:
    frame, ds = _small()
    out = tmp_path / "adxx.json"
    write_datasetjson(out, frame, ds, STUDY, created=CREATED)
    assert out.read_bytes() == EXPECTED_JSON.encode("utf-8")


def test_ndjson_is_metadata_line_then_one_row_per_line(tmp_path: Path) -> None:
    frame, ds = _small()
    out = tmp_path / "adxx.ndjson"
    write_datasetjson(out, frame, ds, STUDY, created=CREATED, fmt="ndjson")
    head, rows = EXPECTED_JSON.split(',"rows":[')
    lines = rows.removesuffix("]}\n")[1:-1].split("],[")
    expected = head + "}\n" + "".join(f"[{r}]\n" for r in lines)
    assert out.read_bytes() == expected.encode("utf-8")


def test_deterministic_and_atomic(tmp_path: Path) -> None:
    frame, ds = _small()
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write_datasetjson(first, frame, ds, STUDY, created=CREATED)
    write_datasetjson(second, frame, ds, STUDY, created=CREATED)
    assert first.read_bytes() == second.read_bytes()
    before = first.read_bytes()
    bad = frame.assign(AGE=[1.5, 2.0, 3.0])
    with pytest.raises(WriteError):
        write_datasetjson(first, bad, ds, STUDY, created=CREATED)
    assert first.read_bytes() == before  # the old file survives a failed write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.json"]  # no temp left


def test_optional_attributes(tmp_path: Path) -> None:
    frame, ds = _small()
    out = tmp_path / "adxx.json"
    source = {"version": "0.1.0", "name": "cdisc-umsc"}
    write_datasetjson(
        out, frame, ds, STUDY, created=CREATED, source_system=source, define_path=None
    )
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert list(doc)[:4] == [
        "datasetJSONCreationDateTime",
        "datasetJSONVersion",
        "sourceSystem",
        "studyOID",
    ]
    assert list(doc["sourceSystem"].items()) == [("name", "cdisc-umsc"), ("version", "0.1.0")]
    assert "metaDataRef" not in doc


def test_empty_dataset_roundtrips_and_validates(tmp_path: Path) -> None:
    frame, ds = _small()
    for fmt in ("json", "ndjson"):
        out = tmp_path / f"adxx.{fmt}"
        write_datasetjson(out, frame.iloc[:0], ds, STUDY, created=CREATED, fmt=fmt)
        back, meta = read_datasetjson(out)
        assert back.shape == (0, 8)
        assert _document(out)["records"] == 0
        assert [v.length for v in meta.variables if v.type == "Char"] == [7, 1, 1]
    if DJ.exists():
        _schema_validator().validate(_document(tmp_path / "adxx.json"))


def test_small_roundtrip_restores_values_and_metadata(tmp_path: Path) -> None:
    frame, ds = _small()
    for fmt in ("json", "ndjson"):
        out = tmp_path / f"adxx.{fmt}"
        write_datasetjson(out, frame, ds, STUDY, created=CREATED, fmt=fmt)
        back, meta = read_datasetjson(out)
        pd.testing.assert_frame_equal(back, frame, check_exact=True)
        assert [(v.name, v.type, v.data_type, v.length, v.format) for v in meta.variables] == [
            ("STUDYID", "Char", "text", 7, None),
            ("USUBJID", "Char", "text", 6, None),
            ("AGE", "Num", "integer", None, None),
            ("AVAL", "Num", "float", None, None),
            ("TRTSDT", "Num", "date", None, "DATE9."),
            ("ADTM", "Num", "datetime", None, "DATETIME20."),
            ("ATM", "Num", "time", None, "TIME8."),
            ("COMMENT", "Char", "text", 9, None),
        ]
        assert meta.keys == ("STUDYID", "USUBJID")
        assert (meta.name, meta.label) == ("ADXX", "Test Analysis")


def test_datetime64_input_is_written_as_sas_date(tmp_path: Path) -> None:
    frame, ds = _small()
    stamps = pd.Series(pd.to_datetime(["1960-01-01", "2021-01-01", None]), dtype="datetime64[s]")
    out = tmp_path / "adxx.json"
    write_datasetjson(out, frame.assign(TRTSDT=stamps), ds, STUDY, created=CREATED)
    assert out.read_bytes() == EXPECTED_JSON.encode("utf-8")


@pytest.mark.parametrize(
    ("var", "expected"),
    [
        (Variable("X", "", "Char", 1), ("string", None)),
        (Variable("X", "", "Char", 1, data_type="datetime"), ("datetime", None)),
        (Variable("X", "", "Char", 1, data_type="partialDate"), ("date", None)),
        (Variable("X", "", "Char", 1, data_type="incompleteDatetime"), ("datetime", None)),
        (Variable("X", "", "Char", 1, data_type="durationDatetime"), ("string", None)),
        (Variable("X", "", "Char", 1, data_type="URI"), ("URI", None)),
        (Variable("X", "", "Num", 1, data_type="integer"), ("integer", None)),
        (Variable("X", "", "Num", 1, data_type="float"), ("double", None)),
        (Variable("X", "", "Num", 1, data_type="integer", format="E8601DA."), ("date", "integer")),
        (Variable("X", "", "Num", 1, format="YYMMDD10."), ("date", "integer")),
        (Variable("X", "", "Num", 1, format="E8601DT19."), ("datetime", "integer")),
        (Variable("X", "", "Num", 1, format="TIME5"), ("time", "integer")),
        (Variable("X", "", "Num", 1, data_type="date", format="8."), ("date", "integer")),
        (Variable("X", "", "Num", 1, format="8.2"), ("double", None)),
    ],
)
def test_column_types(var: Variable, expected: tuple[str, str | None]) -> None:
    assert column_types(var) == expected


def test_sas_format_kind() -> None:
    assert [sas_format_kind(f) for f in ("DATE9.", "date9", "DATETIME20.", "TOD8.", "$20.")] == [
        "date",
        "date",
        "datetime",
        "time",
        None,
    ]


# --- lossless round trip of the CDISC pilot XPT files -------------------------------------------


def _pilot_files() -> list[Path]:
    return sorted(PILOT.glob("*/*.xpt")) if PILOT.exists() else []


def _from_xpt(path: Path) -> tuple[pd.DataFrame, Dataset]:
    """Frame and metadata of an XPT file as pyreadstat sees it (SAS dates kept numeric)."""
    pyreadstat = pytest.importorskip("pyreadstat")
    kw = {"encoding": "cp1252"} if path.name == "ts.xpt" else {}
    frame, meta = pyreadstat.read_xport(str(path), disable_datetime_conversion=True, **kw)
    variables = []
    for i, name in enumerate(frame.columns, start=1):
        label = meta.column_names_to_labels[name] or ""
        if meta.readstat_variable_types[name] == "string":
            width = meta.variable_storage_width[name]
            keys = {"STUDYID": 1, "USUBJID": 2}
            variables.append(
                Variable(name, label, "Char", i, length=width, key_sequence=keys.get(name))
            )
            continue
        fmt = meta.original_variable_types.get(name) or None
        fmt = fmt if fmt is None or "." in fmt else f"{fmt}."
        kind = sas_format_kind(fmt)
        values = frame[name].dropna()
        whole = bool((values == np.floor(values)).all())
        data_type = kind or ("integer" if whole else "float")
        variables.append(Variable(name, label, "Num", i, data_type=data_type, format=fmt))
    ds = Dataset(
        meta.table_name, meta.file_label or meta.table_name, "", "", "", variables=tuple(variables)
    )
    return frame, ds


@pytest.mark.parametrize("xpt", _pilot_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pilot_xpt_roundtrip_is_lossless(xpt: Path, tmp_path: Path) -> None:
    frame, ds = _from_xpt(xpt)
    validator = _schema_validator()
    for fmt in ("json", "ndjson"):
        out = tmp_path / f"{xpt.stem}.{fmt}"
        write_datasetjson(out, frame, ds, STUDY, created=CREATED, fmt=fmt)
        validator.validate(_document(out))
        back, meta = read_datasetjson(out)
        pd.testing.assert_frame_equal(back, frame, check_exact=True)
        assert meta.variables == ds.variables  # names, labels, types, lengths, formats, keys
        assert meta.keys == tuple(n for n in ("STUDYID", "USUBJID") if ds.has(n))
    assert (tmp_path / f"{xpt.stem}.json").read_bytes().count(b"\n") == 1


def test_pilot_ts_keeps_windows_1252_character(tmp_path: Path) -> None:
    path = PILOT / "sdtm" / "ts.xpt"
    if not path.exists():
        pytest.skip("../shared pilot data is absent")
    frame, ds = _from_xpt(path)
    out = tmp_path / "ts.json"
    write_datasetjson(out, frame, ds, STUDY, created=CREATED)
    assert "\u2019".encode() in out.read_bytes()  # 0x92 in cp1252 is U+2019, written as UTF-8


@pytest.mark.parametrize("name", ["adsl.json", "adsl.ndjson"])
def test_reads_cdisc_example_as_its_xpt(name: str) -> None:
    if not (DJ / "examples" / "adsl.xpt").exists():
        pytest.skip("../shared Dataset-JSON examples are absent")
    pyreadstat = pytest.importorskip("pyreadstat")
    xpt, _ = pyreadstat.read_xport(
        str(DJ / "examples" / "adsl.xpt"), disable_datetime_conversion=True
    )
    frame, meta = read_datasetjson(DJ / "examples" / name)
    pd.testing.assert_frame_equal(frame, xpt[frame.columns], check_exact=True)
    assert meta.var("TRTSDT") == Variable(
        "TRTSDT",
        "Date of First Exposure to Treatment",
        "Num",
        11,
        data_type="date",
        format="DATE9.",
    )
    assert meta.keys == ("USUBJID",)


def test_reads_i18n_example_and_rewrites_it(tmp_path: Path) -> None:
    path = DJ / "examples" / "ae-i18n.json"
    if not path.exists():
        pytest.skip("../shared Dataset-JSON examples are absent")
    frame, meta = read_datasetjson(path)
    assert frame.shape == (1191, 36)
    assert any(not s.isascii() for s in frame["AETERM"].dropna())
    out = tmp_path / "ae.ndjson"
    write_datasetjson(out, frame, meta, STUDY, created=CREATED, fmt="ndjson")
    again, meta2 = read_datasetjson(out)
    pd.testing.assert_frame_equal(again, frame, check_exact=True)
    assert meta2.variables == meta.variables


# --- property: arbitrary frames within the format's limits round-trip exactly -------------------

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_MICRO = st.integers(0, 999_999)
_KINDS = {
    "char": None,
    "integer": st.integers(-(2**53) + 1, 2**53 - 1).map(float),
    "double": st.floats(allow_nan=False, allow_infinity=False),
    "date": st.integers(MIN_DAY, MAX_DAY).map(float),
    "datetime": st.builds(
        lambda s, u: s + u / 1e6, st.integers(MIN_DAY * 86400, MAX_DAY * 86400 + 86399), _MICRO
    ),
    "time": st.builds(lambda s, u: s + u / 1e6, st.integers(0, 86399), _MICRO),
}


@st.composite
def _frames(draw: st.DrawFn) -> tuple[pd.DataFrame, Dataset, tuple[Variable, ...]]:
    """A frame, the metadata to write it with, and the variables the reader must return."""
    n = draw(st.integers(0, 8))
    kinds = draw(st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=6))
    data, given, expected = {}, [], []
    for i, kind in enumerate(kinds, start=1):
        name, label = f"V{i}", draw(_TEXT)
        key = draw(st.none() | st.just(i))
        if kind == "char":
            values = draw(st.lists(st.none() | _TEXT, min_size=n, max_size=n))
            data[name] = pd.Series(values, dtype="str")
            longest = max([len(v.encode()) for v in values if v is not None], default=0)
            declared = draw(st.none() | st.integers(max(longest, 1), 300))
            var = Variable(name, label, "Char", i, length=declared, key_sequence=key)
            given.append(var)
            expected.append(replace(var, length=declared or max(longest, 1)))
            continue
        values = draw(st.lists(st.none() | _KINDS[kind], min_size=n, max_size=n))
        data[name] = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
        data_type = {"double": "float"}.get(kind, kind)
        fmt = {"date": "DATE9.", "datetime": "E8601DT26.6", "time": "TIME15.6"}.get(kind)
        var = Variable(name, label, "Num", i, data_type=data_type, format=fmt, key_sequence=key)
        given.append(var)
        expected.append(var)
    ds = Dataset("DS", draw(_TEXT), "", "", "", variables=tuple(given))
    return pd.DataFrame(data, index=pd.RangeIndex(n)), ds, tuple(expected)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_frames(), fmt=st.sampled_from(["json", "ndjson"]))
def test_property_roundtrip_is_lossless(
    case: tuple[pd.DataFrame, Dataset, tuple[Variable, ...]], fmt: str
) -> None:
    frame, ds, expected = case
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"ds.{fmt}"
        write_datasetjson(out, frame, ds, STUDY, created=CREATED, fmt=fmt)
        doc = _document(out)
        back, meta = read_datasetjson(out)
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert meta.variables == expected
    assert doc["records"] == len(frame)
    if DJ.exists():
        _schema_validator().validate(doc)


def test_chunked_writing_gives_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    import cdisc_umsc.write.datasetjson as writer

    frame, ds = _small()
    monkeypatch.setattr(writer, "CHUNK_ROWS", 2)
    for fmt in ("json", "ndjson"):
        chunked, whole = tmp_path / f"c.{fmt}", tmp_path / f"w.{fmt}"
        write_datasetjson(chunked, frame, ds, STUDY, created=CREATED, fmt=fmt)
        monkeypatch.setattr(writer, "CHUNK_ROWS", 50_000)
        write_datasetjson(whole, frame, ds, STUDY, created=CREATED, fmt=fmt)
        monkeypatch.setattr(writer, "CHUNK_ROWS", 2)
        assert chunked.read_bytes() == whole.read_bytes()
    assert (tmp_path / "w.json").read_bytes() == EXPECTED_JSON.encode("utf-8")


# --- bad input: one-line errors naming file/dataset, row, variable and what was expected --------


def _bad_frames():
    frame, ds = _small()
    dup = Dataset("ADXX", "Test Analysis", "", "", "", variables=ds.variables + ds.variables[:1])
    return [
        ("missing", frame.drop(columns="AGE"), ds, r"missing \['AGE'\]"),
        ("extra", frame.assign(X=1.0), ds, r"unexpected \['X'\]"),
        ("duplicate var", frame, dup, "metadata lists a variable twice"),
        (
            "non-integer",
            frame.assign(AGE=[61.0, 1.5, np.nan]),
            ds,
            "row 2, variable AGE: expected an integer",
        ),
        ("infinite", frame.assign(AVAL=[np.inf, 1.0, 1.0]), ds, "row 1, variable AVAL: infinite"),
        ("char gets numbers", frame.assign(USUBJID=[1, 2, 3]), ds, "USUBJID: expected character"),
        ("num gets text", frame.assign(AVAL=["1", "2", "3"]), ds, "AVAL: expected a numeric"),
        (
            "too long",
            frame.assign(STUDYID=["UMSC-01", "UMSC-001", "U"]),
            ds,
            "row 2, variable STUDYID: value longer than declared length 7",
        ),
        (
            "surrogate",
            frame.assign(COMMENT=pd.Series(["", "ok", "bad \ud800"], dtype="str")),
            ds,
            "row 3, variable COMMENT: unpaired surrogate",
        ),
        ("part day", frame.assign(TRTSDT=[0.5, 1.0, 2.0]), ds, "row 1, variable TRTSDT: SAS date"),
        ("year 10000", frame.assign(TRTSDT=[0.0, 3e6, 2.0]), ds, "row 2, variable TRTSDT"),
        ("sub-microsecond", frame.assign(ADTM=[1.0000001, 1.0, 1.0]), ds, "row 1, variable ADTM"),
        ("time past midnight", frame.assign(ATM=[0.0, 86400.0, 1.0]), ds, "row 2, variable ATM"),
        ("almost a day", frame.assign(TRTSDT=[0.0, 0.9999999, 2.0]), ds, "row 2, variable TRTSDT"),
        ("huge datetime", frame.assign(ADTM=[0.0, 1.0, 1e300]), ds, "row 3, variable ADTM: SAS"),
        (
            "date with a time",
            frame.assign(
                TRTSDT=pd.to_datetime(["1960-01-01", "2000-01-01T12:00", None], format="ISO8601")
            ),
            ds,
            "row 2, variable TRTSDT: date holds a time of day",
        ),
        (
            "nanoseconds",
            frame.assign(
                ADTM=pd.to_datetime(
                    ["1960-01-01", None, "2000-01-01T00:00:00.000000001"], format="ISO8601"
                )
            ),
            ds,
            "row 3, variable ADTM: timestamp finer than a microsecond",
        ),
    ]


@pytest.mark.parametrize(
    ("frame", "ds", "match"), [c[1:] for c in _bad_frames()], ids=[c[0] for c in _bad_frames()]
)
def test_writer_rejects_bad_frames(
    frame: pd.DataFrame, ds: Dataset, match: str, tmp_path: Path
) -> None:
    with pytest.raises(WriteError, match=match) as err:
        write_datasetjson(tmp_path / "adxx.json", frame, ds, STUDY, created=CREATED)
    assert "\n" not in str(err.value) and "ADXX" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_bad_metadata_text_and_folder(tmp_path: Path) -> None:
    frame, ds = _small()
    odd = replace(ds, label="bad \ud800")
    with pytest.raises(WriteError, match="ADXX: a dataset or variable label"):
        write_datasetjson(tmp_path / "adxx.json", frame, odd, STUDY, created=CREATED)
    with pytest.raises(WriteError, match="nowhere/adxx.json: folder .*nowhere does not exist"):
        write_datasetjson(tmp_path / "nowhere" / "adxx.json", frame, ds, STUDY, created=CREATED)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("adxx.json", {"created": "2025-01-02 03:04:05"}, "created '2025-01-02 03:04:05'"),
        ("adxx.json", {"created": CREATED, "fmt": "ndjson"}, r"must end in \.ndjson"),
        ("adxx.ndjson", {"created": CREATED}, r"must end in \.json"),
        ("adxx.json", {"created": CREATED, "fmt": "xml"}, "fmt must be"),
        ("adxx.json", {"created": CREATED, "source_system": {"name": "x"}}, "source_system"),
    ],
)
def test_writer_rejects_bad_arguments(name: str, kwargs: dict, match: str, tmp_path: Path) -> None:
    frame, ds = _small()
    with pytest.raises(WriteError, match=match):
        write_datasetjson(tmp_path / name, frame, ds, STUDY, **kwargs)


def _valid_doc(tmp_path: Path) -> dict:
    frame, ds = _small()
    write_datasetjson(tmp_path / "ok.json", frame, ds, STUDY, created=CREATED)
    return json.loads((tmp_path / "ok.json").read_text(encoding="utf-8"))


def _set(path: tuple, value: object):
    def mutate(doc: dict) -> None:
        target = doc
        for step in path[:-1]:
            target = target[step]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return mutate


_DELETE = object()
BAD_DOCS = {
    "no itemGroupOID": (
        _set(("itemGroupOID",), _DELETE),
        "metadata: required attribute 'itemGroupOID'",
    ),
    "unknown attribute": (_set(("extra",), 1), "metadata: unknown attribute 'extra'"),
    "records as text": (_set(("records",), "3"), "records must be int"),
    "records as bool": (_set(("records",), True), "records must be int"),
    "version 1.0": (_set(("datasetJSONVersion",), "1.0.0"), "'1.0.0' is not 1.1.x"),
    "bad created": (_set(("datasetJSONCreationDateTime",), "today"), "'today' is not an ISO"),
    "source system": (
        _set(("sourceSystem",), {"name": "x"}),
        "sourceSystem: required attribute 'version'",
    ),
    "unknown dataType": (
        _set(("columns", 2, "dataType"), "number"),
        "column 3 (AGE): unknown dataType",
    ),
    "bad target": (
        _set(("columns", 2, "targetDataType"), "integer"),
        "column 3 (AGE): targetDataType",
    ),
    "boolean": (_set(("columns", 3, "dataType"), "boolean"), "column 4 (AVAL): boolean"),
    "twice": (
        _set(("columns", 1, "name"), "STUDYID"),
        "column 2 (STUDYID): column name appears twice",
    ),
    "length 0": (_set(("columns", 0, "length"), 0), "column 1 (STUDYID): length must be >= 1"),
    "no label": (_set(("columns", 0, "label"), _DELETE), "column 1: required attribute 'label'"),
    "records off": (_set(("records",), 4), "records is 4 but 3 rows"),
    "short row": (_set(("rows", 1), ["UMSC-01"]), "row 2: expected 8 values, got 1"),
    "row object": (_set(("rows", 1), {"a": 1}), "row 2, column (row): expected an array"),
    "text in integer": (_set(("rows", 0, 2), "61"), "row 1, column AGE: expected a number or null"),
    "bool in double": (_set(("rows", 0, 3), True), "row 1, column AVAL: expected a number"),
    "fraction in integer": (_set(("rows", 2, 2), 7.5), "row 3, column AGE: expected an integer"),
    "huge integer": (_set(("rows", 2, 2), 2**60), "row 3, column AGE: expected an integer"),
    "impossible date": (
        _set(("rows", 1, 4), "2021-02-30"),
        "row 2, column TRTSDT: expected an ISO 8601 date",
    ),
    "number as date": (
        _set(("rows", 1, 4), 22281),
        "row 2, column TRTSDT: expected a string or null",
    ),
    "bad time": (_set(("rows", 0, 6), "25:00:00"), "row 1, column ATM: expected an ISO 8601 time"),
    "space datetime": (
        _set(("rows", 0, 5), "1960-01-01 00:00:01"),
        "row 1, column ADTM: expected an ISO",
    ),
    "too long": (
        _set(("rows", 0, 0), "UMSC-01X"),
        "row 1, column STUDYID: value of 8 characters exceeds",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCS))
def test_reader_rejects_bad_documents(case: str, tmp_path: Path) -> None:
    mutate, match = BAD_DOCS[case]
    doc = _valid_doc(tmp_path)
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(match)) as err:
        read_datasetjson(path)
    assert "\n" not in str(err.value) and str(err.value).startswith(str(path))


@pytest.mark.parametrize(
    ("name", "edit", "match"),
    [
        ("bad.json", lambda b: b.replace(b"1.5,", b"NaN,", 1), "file: invalid JSON .*NaN"),
        (
            "bad.json",
            lambda b: b.replace(b'"name":"ADXX"', b'"name":"ADXX","name":"X"'),
            "duplicate key 'name'",
        ),
        ("bad.json", lambda b: b[:-5], "file: invalid JSON"),
        ("bad.json", lambda b: b"\xff" + b, "not UTF-8"),
        ("bad.txt", lambda b: b, "expected a .json or .ndjson"),
        ("bad.ndjson", lambda b: b, "line 1: NDJSON metadata must not hold 'rows'"),
        ("bad.ndjson", lambda b: b"", "line 1: empty file"),
        (
            "bad.json",
            lambda b: b.replace(b"1.5,", b"1e400,", 1),
            "AVAL: expected a double, got inf",
        ),
        ("bad.json", lambda b: b.replace(b"1.5,", b"-Infinity,", 1), "invalid JSON .*-Infinity"),
        (
            "bad.json",
            lambda b: b.replace(b"1.5,", b"[" * 100_000 + b"]" * 100_000 + b",", 1),
            r"bad\.json: file: invalid JSON \(arrays or objects nested too deeply",
        ),
        (
            "bad.json",
            lambda b: b.replace(b"1.5,", b"[" * 50 + b"]" * 50 + b",", 1),
            r"row \d, column AVAL: expected a number or null, got \[\[\[",
        ),
    ],
)
def test_reader_rejects_bad_bytes(name: str, edit, match: str, tmp_path: Path) -> None:
    frame, ds = _small()
    write_datasetjson(tmp_path / "ok.json", frame, ds, STUDY, created=CREATED)
    path = tmp_path / name
    path.write_bytes(edit((tmp_path / "ok.json").read_bytes()))
    with pytest.raises(InputError, match=match) as err:
        read_datasetjson(path)
    assert "\n" not in str(err.value)


def test_reader_bounds_ndjson_nesting_and_reads_regular_files_only(tmp_path: Path) -> None:
    frame, ds = _small()
    path = tmp_path / "adxx.ndjson"
    write_datasetjson(path, frame, ds, STUDY, created=CREATED, fmt="ndjson")
    lines = path.read_bytes().split(b"\n")
    deep = tmp_path / "deep.ndjson"
    deep.write_bytes(b"\n".join([*lines[:2], b"[" * 100_000 + b"]" * 100_000, *lines[3:]]))
    with pytest.raises(InputError) as err:
        read_datasetjson(deep)
    assert str(err.value) == (
        f"{deep}: line 3: invalid JSON (arrays or objects nested too deeply for Dataset-JSON)"
    )
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as err:
        read_datasetjson(fifo)
    assert str(err.value) == f"{fifo}: cannot read (not a regular file)"


def test_reader_names_ndjson_lines(tmp_path: Path) -> None:
    frame, ds = _small()
    path = tmp_path / "adxx.ndjson"
    write_datasetjson(path, frame, ds, STUDY, created=CREATED, fmt="ndjson")
    lines = path.read_bytes().split(b"\n")
    broken = tmp_path / "broken.ndjson"
    broken.write_bytes(b"\n".join([*lines[:2], b"[1,", *lines[3:]]))
    with pytest.raises(InputError, match=r"broken.ndjson: line 3: invalid JSON"):
        read_datasetjson(broken)
    typed = tmp_path / "typed.ndjson"
    typed.write_bytes(b"\n".join([lines[0], lines[1].replace(b",61,", b',"61",'), *lines[2:]]))
    with pytest.raises(InputError, match=r"typed.ndjson: line 2, column AGE: expected a number"):
        read_datasetjson(typed)
    with pytest.raises(InputError, match=r"missing.ndjson: cannot read"):
        read_datasetjson(tmp_path / "missing.ndjson")


def test_reader_accepts_crlf_decimal_and_character_dates(tmp_path: Path) -> None:
    meta = {
        "datasetJSONCreationDateTime": "2024-01-01T00:00:00Z",
        "datasetJSONVersion": "1.1",
        "itemGroupOID": "IG.X",
        "records": 2,
        "name": "X",
        "label": "",
        "columns": [
            {"itemOID": "IT.X.D", "name": "D", "label": "dec", "dataType": "decimal",
             "targetDataType": "decimal", "length": 9},
            {"itemOID": "IT.X.DTC", "name": "DTC", "label": "iso", "dataType": "date"},
            {"itemOID": "IT.X.N", "name": "N", "label": "n", "dataType": "float"},
        ],
    }  # fmt: skip
    rows = [["1,234.5", "2012-12", 3], ["-0.25", None, None]]
    path = tmp_path / "x.ndjson"
    path.write_bytes("\r\n".join(map(json.dumps, [meta, *rows])).encode() + b"\r\n")
    frame, ds = read_datasetjson(path)
    assert frame["D"].tolist() == [1234.5, -0.25]
    assert frame["DTC"].iloc[0] == "2012-12" and pd.isna(frame["DTC"].iloc[1])
    assert frame["N"].iloc[0] == 3.0 and np.isnan(frame["N"].iloc[1])
    assert [(v.type, v.data_type, v.length) for v in ds.variables] == [
        ("Num", "float", 9),
        ("Char", "date", None),
        ("Num", "float", None),
    ]
