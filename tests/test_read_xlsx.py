"""Excel workbooks as raw forms (read/xlsx.py): one sheet is one form, cells keep their types,
blank rows hold no record, and the workbook is checked (zip, size, no DOCTYPE) before it is
opened. The bundled trial written as one workbook reads exactly as its CSV forms."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl  # writes the test workbooks (the reader is python-calamine)
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import FieldSpec, FormSpec
from cdisc_umsc.metadata.spec import load_study_spec
from cdisc_umsc.read import xlsx
from cdisc_umsc.read.raw import read_raw_forms
from cdisc_umsc.read.xlsx import read_xlsx
from tests.conftest import RAW, SPEC

FORM = FormSpec(
    "VS",
    "crf.xlsx",
    "",
    ("SUBJID", "VISIT"),
    (
        FieldSpec("SUBJID"),
        FieldSpec("VISIT"),
        FieldSpec("VSDAT", "date", "DD/MON/YYYY", unknown=("UK", "UNK")),
        FieldSpec("VSTIM", "time"),
        FieldSpec("WEIGHT", "number"),
        FieldSpec("PULSE", "integer", max=200),
    ),
    "xlsx",
    "Vitals",
)


def workbook(tmp: Path, rows: list[list], sheet: str = "Vitals") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.create_sheet("Notes").append(["not a form"])
    path = tmp / "crf.xlsx"
    book.save(path)
    return path


P = "crf.xlsx sheet Vitals: "
HEADER = ["SUBJID", "VISIT", "VSDAT", "VSTIM", "WEIGHT", "PULSE"]


def test_cells_read_as_the_csv_reader_would(tmp_path):
    workbook(
        tmp_path,
        [
            HEADER,
            ["001", "V1", dt.date(2019, 1, 15), dt.time(9, 30), 70.5, 72],
            [None, None, None, None, None, None],
            ["001", 2, "UK/MAY/2019", "10:05", "71", None],
            [" 002 ", "V1", dt.datetime(2019, 2, 1), None, 80, 64.0],
        ],
    )
    frame = read_xlsx(tmp_path, FORM, cutoff="2021-06-30")
    assert frame.drop(columns="__form").values.tolist() == [
        [1, "001", "V1", "2019-01-15", "09:30", "70.5", "72"],
        [3, "001", "2", "2019-05", "10:05", "71", ""],  # row 2 is blank: no record
        [4, "002", "V1", "2019-02-01", "", "80", "64"],
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [HEADER, ["001", "V1", dt.datetime(2019, 1, 1, 8), None, 1, 1]],
            P + "row 1, column VSDAT: holds a date and time (2019-01-01T08:00:00) where a date",
        ),
        (
            [HEADER, ["001", "V1", None, None, 1, 201]],
            P + "row 1, column PULSE: above the allowed maximum 200 (got '201')",
        ),
        (
            [HEADER, ["001", "V1", None, None, 1, 1], ["001", "V1", None, None, 2, 2]],
            P + "row 2, column VISIT: duplicate record: SUBJID='001', VISIT='V1' already on row 1",
        ),
        (
            [HEADER[:-1]],
            P + "column PULSE: column missing from the header row (the spec declares it)",
        ),
        ([[*HEADER, "EXTRA"]], P + "column EXTRA: unexpected column"),
        (
            [HEADER, ["001", "V1", None, None, 1, 1, None, "x"]],
            P + "row 1: a value in column 8, which has no header",
        ),
        ([["SUBJID", 5]], P + "header cell 2 is 5.0 (expected a field name)"),
        ([], P + "sheet is empty (expected a header row)"),
        (
            [HEADER, ["001", "V1", dt.timedelta(days=1), None, 1, 1]],
            P + "row 1, column VSDAT: holds a duration",
        ),
    ],
)
def test_errors_name_sheet_row_and_column(tmp_path, rows, message):
    workbook(tmp_path, rows)
    with pytest.raises(InputError) as err:
        read_xlsx(tmp_path, FORM)
    assert str(err.value).startswith(message)


def test_missing_sheet_names_the_sheets(tmp_path):
    workbook(tmp_path, [HEADER], sheet="Vital signs")
    with pytest.raises(
        InputError,
        match="crf.xlsx sheet Vitals: no such sheet \\(the workbook has: Vital signs, Notes\\)",
    ):
        read_xlsx(tmp_path, FORM)


def test_not_a_workbook(tmp_path):
    (tmp_path / "crf.xlsx").write_text("SUBJID,VISIT\n", encoding="utf-8")
    with pytest.raises(
        InputError, match="crf.xlsx sheet Vitals: not an .xlsx workbook \\(not a zip package\\)"
    ):
        read_xlsx(tmp_path, FORM)
    with zipfile.ZipFile(tmp_path / "crf.xlsx", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match="crf.xlsx sheet Vitals: not a readable .xlsx workbook"):
        read_xlsx(tmp_path, FORM)
    (tmp_path / "crf.xlsx").unlink()
    with pytest.raises(InputError, match="crf.xlsx sheet Vitals: raw form file not found"):
        read_xlsx(tmp_path, FORM)


def _rewrite(path: Path, part: str, change) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts[part] = change(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_entity_declarations_are_refused(tmp_path):
    path = workbook(tmp_path, [HEADER])
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
    _rewrite(path, "xl/worksheets/sheet1.xml", lambda d: bomb + d.split(b"?>", 1)[-1])
    with pytest.raises(
        InputError, match="part xl/worksheets/sheet1.xml declares a DOCTYPE; refused"
    ):
        read_xlsx(tmp_path, FORM)


def test_unpacked_size_is_bounded(tmp_path, monkeypatch):
    workbook(tmp_path, [HEADER])
    monkeypatch.setattr(xlsx, "MAX_UNPACKED", 100)
    with pytest.raises(
        InputError,
        match=r"crf.xlsx sheet Vitals: the workbook unpacks to \d+ bytes \(at most 100\)",
    ):
        read_xlsx(tmp_path, FORM)


def test_the_bundled_trial_as_a_workbook_reads_as_its_csv_forms(tmp_path):
    spec = load_study_spec(SPEC)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, form in spec.forms.items():
        ws = book.create_sheet(name)
        frame = pd.read_csv(RAW / form.file, dtype=str, keep_default_na=False)
        ws.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            ws.append(list(row))
    book.save(tmp_path / "umsc.xlsx")
    forms = {
        n: FormSpec(f.name, "umsc.xlsx", f.label, f.key, f.fields, "xlsx", n)
        for n, f in spec.forms.items()
    }
    got = read_raw_forms(tmp_path, forms)
    want = read_raw_forms(RAW, spec.forms)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name])
