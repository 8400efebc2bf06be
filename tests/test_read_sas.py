"""SAS datasets as raw forms (read/sas.py): SAS7BDAT and XPORT, dates, times, formats'
decimals, special missing values, case-insensitive names, and one-line errors for files that
are not readable SAS datasets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import FieldSpec, FormSpec
from cdisc_umsc.read.sas import read_sas

FIELDS = (
    FieldSpec("SUBJID"),
    FieldSpec("VISDAT", "date", "YYYY-MM-DD"),
    FieldSpec("STTIM", "time"),
    FieldSpec("DOSE", "number"),
    FieldSpec("SCORE", "integer", min=0, max=4),
    FieldSpec("NAME"),
)


def form(kind: str, fields=FIELDS, key=("SUBJID",)) -> FormSpec:  # type: ignore[no-untyped-def]
    return FormSpec("EX", f"ex.{kind}", "Exposure", key, fields, kind)


def data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subjid": ["001", "002", "003"],
            "VISDAT": [dt.date(2019, 1, 15), None, dt.date(2019, 3, 1)],
            "STTIM": [dt.time(9, 30), dt.time(10, 5), None],
            "DOSE": [2.0, 1.5, np.nan],
            "SCORE": [3.0, np.nan, 0.0],
            "NAME": ["吴明涛", "", "Ann"],
        }
    )


FORMATS = {"VISDAT": "DATE9.", "STTIM": "TIME8.", "DOSE": "8.1"}


def write(tmp: Path, kind: str, frame: pd.DataFrame, **extra) -> None:  # type: ignore[no-untyped-def]
    if kind == "sas7bdat":
        pyreadstat.write_sas7bdat(frame, tmp / "ex.sas7bdat", variable_format=FORMATS, **extra)
    else:
        pyreadstat.write_xport(frame, tmp / "ex.xpt", variable_format=FORMATS, **extra)


@pytest.mark.parametrize("kind", ["sas7bdat", "xpt"])
def test_reads_typed_columns_as_the_csv_reader_would(tmp_path, kind):
    write(tmp_path, kind, data())
    frame = read_sas(tmp_path, form(kind), cutoff="2021-06-30")
    assert frame.columns.tolist() == [
        "__row",
        "SUBJID",
        "VISDAT",
        "STTIM",
        "DOSE",
        "SCORE",
        "NAME",
        "__form",
    ]
    assert frame.drop(columns="__form").values.tolist() == [
        [1, "001", "2019-01-15", "09:30", "2.0", "3", "吴明涛"],
        [2, "002", "", "10:05", "1.5", "", ""],
        [3, "003", "2019-03-01", "", "", "0", "Ann"],
    ]


def test_special_missing_values_are_missing(tmp_path):
    frame = data()
    frame.loc[1, "SCORE"] = np.nan
    pyreadstat.write_sas7bdat(
        frame,
        tmp_path / "ex.sas7bdat",
        variable_format=FORMATS,
        missing_user_values={"SCORE": ["A"]},
    )
    got = read_sas(tmp_path, form("sas7bdat"))
    assert got["SCORE"].tolist() == ["3", "", "0"]


def test_a_time_with_seconds_is_not_hh_mm(tmp_path):
    write(tmp_path, "xpt", data().assign(STTIM=[dt.time(9, 30), dt.time(10, 5, 30), None]))
    with pytest.raises(InputError) as err:
        read_sas(tmp_path, form("xpt"))
    assert str(err.value) == (
        "ex.xpt: row 2, column STTIM: expected a time written hh:mm (got '10:05:30')"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.assign(SCORE=[3.0, 5.0, 0.0]),
            "ex.xpt: row 2, column SCORE: above the allowed maximum 4 (got '5')",
        ),
        (
            lambda f: f.assign(SCORE=[3.0, 1.5, 0.0]),
            "ex.xpt: row 2, column SCORE: expected a whole number (got '1.5')",
        ),
        (
            lambda f: f.assign(subjid=["001", "001", "003"]),
            "ex.xpt: row 2, column SUBJID: duplicate record: SUBJID='001' already on row 1",
        ),
        (
            lambda f: f.drop(columns="NAME"),
            "ex.xpt: column NAME: column missing from the dataset (the spec declares it)",
        ),
        (
            lambda f: f.assign(EXTRA=1.0),
            "ex.xpt: column EXTRA: unexpected column (not declared in the spec's form)",
        ),
        (
            lambda f: f.assign(VISDAT=[20000.0, np.nan, 1.0]),
            "ex.xpt: row 1, column VISDAT: expected a date, got the number 20000.0 "
            "(a SAS numeric without a date or time format?)",
        ),
        (
            lambda f: f.assign(VISDAT=[dt.date(2022, 1, 1), None, None]),
            "ex.xpt: row 1, column VISDAT: date after the data cut-off 2021-06-30 "
            "(study created:) (got '2022-01-01')",
        ),
    ],
)
def test_errors_name_file_row_and_column(tmp_path, change, message):
    frame = change(data())
    formats = {k: v for k, v in FORMATS.items() if not (k == "VISDAT" and frame[k].dtype == float)}
    pyreadstat.write_xport(frame, tmp_path / "ex.xpt", variable_format=formats)
    with pytest.raises(InputError) as err:
        read_sas(tmp_path, form("xpt"), cutoff="2021-06-30")
    assert str(err.value) == message


def test_date_cells_follow_the_declared_format(tmp_path):
    write(tmp_path, "xpt", data())
    fields = tuple(
        FieldSpec(f.name, "date", "DD/MON/YYYY") if f.name == "VISDAT" else f for f in FIELDS
    )
    assert read_sas(tmp_path, form("xpt", fields))["VISDAT"].tolist() == [
        "2019-01-15",
        "",
        "2019-03-01",
    ]


def test_a_date_time_is_not_a_date(tmp_path):
    frame = data().assign(VISDAT=[pd.Timestamp("2019-01-15 08:00"), pd.NaT, pd.NaT])
    pyreadstat.write_xport(
        frame, tmp_path / "ex.xpt", variable_format={**FORMATS, "VISDAT": "DATETIME20."}
    )
    with pytest.raises(
        InputError,
        match="row 1, column VISDAT: holds a date and time \\(2019-01-15T08:00:00\\) where a date",
    ):
        read_sas(tmp_path, form("xpt"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "ex.{kind}: not a readable {name} dataset"),
        (b"HEADER RECORD*******LIBRARY" * 4, "ex.{kind}: not a readable {name} dataset"),
        (None, "ex.{kind}: raw form file not found in"),
    ],
)
@pytest.mark.parametrize(("kind", "name"), [("sas7bdat", "SAS7BDAT"), ("xpt", "SAS XPORT")])
def test_unreadable_files_give_one_line(tmp_path, kind, name, content, message):
    if content is not None:
        (tmp_path / f"ex.{kind}").write_bytes(content)
    with pytest.raises(InputError) as err:
        read_sas(tmp_path, form(kind))
    assert str(err.value).startswith(message.format(kind=kind, name=name))
    assert "\n" not in str(err.value)


def test_truncated_sas7bdat(tmp_path):
    write(tmp_path, "sas7bdat", data())
    path = tmp_path / "ex.sas7bdat"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(InputError, match="ex.sas7bdat: not a readable SAS7BDAT dataset"):
        read_sas(tmp_path, form("sas7bdat"))


def test_xport_in_another_encoding(tmp_path):
    frame = data().assign(NAME=["é", "", ""])
    pyreadstat.write_xport(frame, tmp_path / "ex.xpt", variable_format=FORMATS)
    raw = (tmp_path / "ex.xpt").read_bytes().replace("é".encode(), b"\xe9 ")
    (tmp_path / "ex.xpt").write_bytes(raw)
    with pytest.raises(InputError) as err:
        read_sas(tmp_path, form("xpt"))
    assert str(err.value) == (
        "ex.xpt: row 1, column NAME: byte 0xE9 is not valid utf-8 (re-export the dataset, "
        "or give raw: encoding:)"
    )
    assert read_sas(tmp_path, form("xpt"), encoding="latin-1")["NAME"].iloc[0] == "é"
    with pytest.raises(InputError, match="row 1, column NAME: byte 0xE9 is not valid gb18030"):
        read_sas(tmp_path, form("xpt"), encoding="gb18030")


def test_a_sas_written_xport_v5_file_reads_with_its_draft(tmp_path):
    """The CDISC pilot's ADSL: an XPORT v5 file written by SAS, not by this project."""
    from cdisc_umsc.metadata.spec import load_study_spec
    from cdisc_umsc.read.draft import draft_forms
    from tests.conftest import SHARED

    adsl = SHARED / "reference" / "cdiscpilot01" / "adam" / "adsl.xpt"
    if not adsl.is_file():
        pytest.skip("shared reference material absent")
    assert adsl.read_bytes()[:80].startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD")  # v5
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    (spec_dir / "study.yaml").write_text(
        "study: {STUDYID: P, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: '2020-01-01'}\n"
        + draft_forms([adsl]).replace("  ADSL:", "  ADSL:\n    key: [USUBJID]", 1),
        encoding="utf-8",
    )
    form = load_study_spec(spec_dir).forms["ADSL"]
    frame = read_sas(adsl.parent, form, cutoff="2020-01-01")
    assert len(frame) == 254
    first = frame.iloc[0]
    assert (first["USUBJID"], first["TRTSDT"], first["AGE"]) == ("01-701-1015", "2014-01-02", "63")
    assert {f.name: f.type for f in form.fields}["TRTSDT"] == "date"
