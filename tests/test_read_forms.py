"""The strict raw-form reader: provenance, types, dates, keys, and one-line errors."""

from __future__ import annotations

import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import FieldSpec, FormSpec
from cdisc_umsc.read.forms import ROW, read_form

FORM = FormSpec(
    "AE",
    "AE.csv",
    key=("SUBJID", "AESPID"),
    fields=(
        FieldSpec("SUBJID"),
        FieldSpec("AESPID", "integer"),
        FieldSpec("AESTDAT", "date", "DD/MON/YYYY", unknown=("UK", "UNK")),
        FieldSpec("SCORE", "integer", min=0, max=4),
    ),
)


def _write(tmp_path, text, encoding="utf-8"):
    (tmp_path / "AE.csv").write_bytes(text.encode(encoding))
    return tmp_path


def _error(tmp_path, text, **kw) -> str:
    with pytest.raises(InputError) as exc:
        read_form(_write(tmp_path, text, **kw), FORM)
    return str(exc.value)


def test_reads_with_provenance_and_iso_dates(tmp_path):
    text = (
        "SUBJID,AESPID,AESTDAT,SCORE\n001,1,05/MAR/2019,2\n001,2,UK/MAR/2019,\n"
        "002,1,UK/UNK/2019,0\n"
    )
    frame = read_form(_write(tmp_path, text), FORM)
    assert frame[ROW].tolist() == [1, 2, 3]
    assert frame["AESTDAT"].tolist() == ["2019-03-05", "2019-03", "2019"]


def test_bom_is_accepted(tmp_path):
    frame = read_form(_write(tmp_path, "\ufeffSUBJID,AESPID,AESTDAT,SCORE\n001,1,,1\n"), FORM)
    assert list(frame.columns[1:5]) == ["SUBJID", "AESPID", "AESTDAT", "SCORE"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "SUBJID,AESPID,AESTDAT,SCORE\n001,1,30/FEB/2019,1\n",
            "AE.csv: row 1, column AESTDAT: day out of range for the month (impossible date) "
            "(got '30/FEB/2019')",
        ),
        (
            "SUBJID,AESPID,AESTDAT,SCORE\n001,1,2019-03-05,1\n",
            "AE.csv: row 1, column AESTDAT: expected a date written DD/MON/YYYY (got '2019-03-05')",
        ),
        (
            "SUBJID,AESPID,AESTDAT,SCORE\n001,x,,1\n",
            "AE.csv: row 1, column AESPID: expected a whole number (got 'x')",
        ),
        (
            "SUBJID,AESPID,AESTDAT,SCORE\n001,1,,5\n",
            "AE.csv: row 1, column SCORE: above the allowed maximum 4 (got '5')",
        ),
        (
            "SUBJID,AESPID,AESTDAT,SCORE\n001,1,,1\n001,1,,2\n",
            "AE.csv: row 2, column AESPID: duplicate record: SUBJID='001', AESPID='1' "
            "already on row 1",
        ),
        ("SUBJID,AESPID,AESTDAT\n001,1,\n", "AE.csv: column SCORE: column missing from the header"),
        (
            "SUBJID,AESPID,AESTDAT,SCORE,NAME\n001,1,,1,x\n",
            "AE.csv: column NAME: unexpected column",
        ),
        ("SUBJID,AESPID,AESPID,SCORE\n001,1,1,1\n", "AE.csv: column AESPID: duplicated column"),
        (
            "SUBJID,AESPID,AESTDAT,SCORE\n001,1,,1\n002,1\n",
            "AE.csv: row 2, column AESTDAT: row has fewer",
        ),
        ("", "AE.csv: file is empty"),
        (
            "SUBJID,AESPID,AESTDAT,SCORE\n,1,,1\n",
            "AE.csv: row 1, column SUBJID: key field is blank",
        ),
    ],
)
def test_errors_name_file_row_and_column(tmp_path, text, expected):
    assert _error(tmp_path, text).startswith(expected)


def test_wrong_encoding(tmp_path):
    msg = _error(tmp_path, "SUBJID,AESPID,AESTDAT,SCORE\n发热,1,,1\n", encoding="gb18030")
    assert msg.startswith("AE.csv: line 2: byte 0x") and "not valid utf-8" in msg


def test_pandas_parser_messages_in_the_readers_words() -> None:
    from cdisc_umsc.read.forms import _parser_problem

    assert _parser_problem(
        "Error tokenizing data. C error: EOF inside string starting at row 2"
    ) == (
        2,
        'a quoted field starts here and is never closed (a " without its closing ")',
    )
    assert _parser_problem(
        "Error tokenizing data. C error: Expected 17 fields in line 5, saw 19"
    ) == (
        None,
        "line 5 has 19 fields, the header 17",
    )
    assert _parser_problem("something else") == (None, "something else")
