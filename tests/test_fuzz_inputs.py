"""Fuzzing the readers of hostile input: the raw CSV reader, the XPT reader and the spec loader
either succeed or raise the project's one-line error (:class:`UmscError`), never another
exception (issue 17). Few examples and a per-example deadline keep the suite fast; the
hand-written hostile cases are the corpus in tests/bad_inputs.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdisc_umsc.core.errors import UmscError
from cdisc_umsc.metadata.model import Dataset, FieldSpec, FormSpec, Variable
from cdisc_umsc.metadata.specfile import load_spec_file
from cdisc_umsc.read.raw import read_raw_forms
from cdisc_umsc.read.xpt import read_xpt
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from cdisc_umsc.write.xpt import write_xpt
from tests.conftest import SPEC

FUZZ = settings(
    max_examples=40,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
)

FORM = FormSpec(
    "F",
    "F.csv",
    key=("SUBJID",),
    fields=(
        FieldSpec("SUBJID"),
        FieldSpec("N", "number", min=0, max=100),
        FieldSpec("I", "integer"),
        FieldSpec("D", "date", "DD/MON/YYYY", unknown=("UK", "UNK")),
        FieldSpec("T", "time", "hh:mm"),
    ),
)
HEADER = "SUBJID,N,I,D,T"
#: characters that break CSV and value parsing: separators, quotes, line ends, controls,
#: full-width and Arabic-Indic digits, signs and exponents
HOSTILE = st.sampled_from(
    [",", '"', "\n", "\r", "\r\n", " ", "\t", "\x00", "\x1b", "\ufeff", "UK", "UNK", "JAN"]
    + ["FEB", "/", ":", "-", "+", ".", "e", "inf", "nan", "１", "٣", "0", "1", "9", "x", "是"]
)
CELL = st.one_of(
    st.sampled_from(["001", "12.5", "7", "15/JAN/2019", "UK/UNK/2019", "09:30", ""]),
    st.lists(HOSTILE, max_size=8).map("".join),
)


def _read(text: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "F.csv").write_bytes(text)
        try:
            frame = read_raw_forms(Path(tmp), {"F": FORM}, "utf-8", "2021-06-30")["F"]
        except UmscError as exc:
            assert "\n" not in str(exc)
            return
    assert list(frame.columns[1:6]) == ["SUBJID", "N", "I", "D", "T"]


@FUZZ
@given(
    st.lists(st.lists(CELL, min_size=4, max_size=6), max_size=5),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_raw_csv_reader_gives_a_frame_or_a_one_line_error(rows, end):
    text = end.join([HEADER, *(",".join(r) for r in rows)]) + end
    _read(text.encode("utf-8"))


@FUZZ
@given(st.binary(max_size=200))
def test_raw_csv_reader_on_arbitrary_bytes(data):
    _read(HEADER.encode() + b"\n" + data)


def _xpt_bytes() -> bytes:
    meta = Dataset(
        "AE",
        "Adverse Events",
        "EVENTS",
        "One record per event",
        "SDTMIG 3.4",
        variables=(
            Variable("AETERM", "Reported Term", "Char", 20),
            Variable("AESEQ", "Seq", "Num", 8),
        ),
    )
    frame = pd.DataFrame({"AETERM": ["Fever", "Rash", "Headache"], "AESEQ": [1.0, 2.0, 3.0]})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ae.xpt"
        write_xpt(path, frame, meta, created=datetime(2021, 6, 30))
        return path.read_bytes()


XPT = _xpt_bytes()


@FUZZ
@given(
    st.integers(0, len(XPT)),
    st.lists(st.tuples(st.integers(0, len(XPT) - 1), st.integers(0, 255)), max_size=6),
)
def test_xpt_reader_on_a_damaged_file_gives_data_or_a_one_line_error(cut, flips):
    data = bytearray(XPT[:cut])
    for pos, byte in flips:
        if pos < len(data):
            data[pos] = byte
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ae.xpt"
        path.write_bytes(bytes(data))
        try:
            frame, _meta = read_xpt(path)
        except UmscError as exc:
            assert "\n" not in str(exc)
            return
    # a file read whole (cut at the end, bytes changed in place) keeps every record
    assert cut == len(XPT) and len(frame) == 3


YAML_BITS = st.sampled_from(
    ["a", ":", " ", "\n", "  ", "- ", "{", "}", "[", "]", ",", "&x", "*x", "!!python/object", "'"]
    + ['"', "#", "NO", "012", "1.10", "~", "|", ">", "\t", "?", "%YAML 1.1", "---", "..."]
)


@FUZZ
@given(st.lists(YAML_BITS, max_size=40).map("".join))
def test_spec_file_loader_gives_a_mapping_or_a_spec_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            data = load_spec_file(path, "x.yaml")
        except UmscError as exc:
            assert str(exc).startswith("x.yaml") and "\n" not in str(exc)
            return
    assert isinstance(data, dict)


STUDY_LINES = (SPEC / "study.yaml").read_text(encoding="utf-8").split("\n")


@settings(max_examples=15, deadline=timedelta(seconds=20))
@given(st.integers(0, len(STUDY_LINES) - 1), st.lists(YAML_BITS, max_size=6).map("".join))
def test_spec_loader_on_a_damaged_study_file_gives_a_spec_or_a_one_line_error(line, junk):
    import shutil

    lines = list(STUDY_LINES)
    lines[line] = lines[line][: len(lines[line]) // 2] + junk
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "spec"
        shutil.copytree(SPEC, root)
        (root / "study.yaml").write_text("\n".join(lines), encoding="utf-8")
        try:
            load_checked_spec(root)
        except UmscError as exc:
            assert "\n" not in str(exc)
