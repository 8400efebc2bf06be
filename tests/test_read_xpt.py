"""XPT reader: metadata from the file, encoding errors that say where, lossless round trips."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.read.xpt import read_xpt
from cdisc_umsc.write.xpt import write_xpt

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PILOT = SHARED / "reference" / "cdiscpilot01"
REFERENCE_FILES = sorted(PILOT.glob("sdtm/*.xpt")) + sorted(PILOT.glob("adam/*.xpt"))
REFERENCE_FILES += [SHARED / "reference" / "dataset-json-1.1" / "examples" / "adsl.xpt"]
CREATED = datetime(2025, 1, 31, 12, 0, 0)
OBS = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip("../shared reference material is absent")


def _encoding(path: Path) -> str:
    return "cp1252" if path.name == "ts.xpt" else "ascii"


@pytest.mark.parametrize(
    "path", REFERENCE_FILES, ids=[f"{p.parent.name}/{p.name}" for p in REFERENCE_FILES]
)
def test_round_trip_reference_files(tmp_path: Path, path: Path) -> None:
    _need(path)
    enc = _encoding(path)
    df, ds = read_xpt(path, encoding=enc)
    out = tmp_path / path.name
    write_xpt(out, df, ds, created=CREATED, encoding=enc)
    df2, ds2 = read_xpt(out, encoding=enc)
    assert ds2 == ds  # name, label, variables with labels, types, lengths, formats
    pd.testing.assert_frame_equal(df2, df)
    # the observation records are the bytes SAS wrote
    ours, theirs = out.read_bytes(), path.read_bytes()
    assert ours[ours.index(OBS) :] == theirs[theirs.index(OBS) :]


def test_metadata_of_pilot_adsl() -> None:
    path = PILOT / "adam" / "adsl.xpt"
    _need(path)
    df, ds = read_xpt(path)
    assert (ds.name, ds.label, len(df)) == ("ADSL", "", 254)
    first = ds.variables[0]
    assert (first.name, first.label, first.type, first.length, first.order) == (
        "STUDYID",
        "Study Identifier",
        "Char",
        12,
        1,
    )
    trtsdt = ds.var("TRTSDT")
    assert (trtsdt.type, trtsdt.length, trtsdt.format) == ("Num", 8, "DATE9.")
    assert df["TRTSDT"].dtype == np.float64  # numbers stay numbers
    assert ds.var("AGE").format is None


def test_ts_needs_its_encoding(tmp_path: Path) -> None:
    path = PILOT / "sdtm" / "ts.xpt"
    _need(path)
    with pytest.raises(InputError) as info:
        read_xpt(path)
    message = str(info.value)
    assert "ts.xpt: variable TSVAL, row 9: byte 0x92 at position 50 is not valid ascii" in message
    assert "\n" not in message
    df, ds = read_xpt(path, encoding="cp1252")
    assert df.loc[8, "TSVAL"][:50].endswith("Alzheimer\u2019")
    out = tmp_path / "ts.xpt"
    write_xpt(out, df, ds, created=CREATED, encoding="cp1252")
    assert (
        out.read_bytes()[out.read_bytes().index(OBS) :]
        == path.read_bytes()[path.read_bytes().index(OBS) :]
    )
    with pytest.raises(InputError, match="byte 0x92"):
        read_xpt(out)


def test_bad_utf8_is_located(tmp_path: Path) -> None:
    df = pd.DataFrame({"A": ["fine", "caf\u00e9", "ok"], "B": ["x", "y", "z"]})
    ds = Dataset(
        "T",
        "",
        "",
        "",
        "",
        variables=(Variable("A", "", "Char", 1), Variable("B", "", "Char", 2)),
    )
    path = tmp_path / "t.xpt"
    write_xpt(path, df, ds, created=CREATED, encoding="latin-1")
    with pytest.raises(InputError, match=r"variable A, row 2: byte 0xE9 at position 4 .*utf-8"):
        read_xpt(path, encoding="utf-8")
    got, meta = read_xpt(path, encoding="latin-1")
    assert got["A"].tolist() == df["A"].tolist()
    assert [(v.name, v.length) for v in meta.variables] == [("A", 4), ("B", 1)]


def test_reads_version_8(tmp_path: Path) -> None:
    path = tmp_path / "v8.xpt"
    df = pd.DataFrame({"LONGVARIABLE": ["abc", "de"], "N": [1.25, np.nan]})
    pyreadstat.write_xport(
        df,
        path,
        file_format_version=8,
        table_name="LONGTABLE",
        file_label="Version eight",
        column_labels=["A label longer than forty characters, as v8 allows", "Number"],
        variable_format={"N": "8.2"},
    )
    got, ds = read_xpt(path)
    assert (ds.name, ds.label) == ("LONGTABLE", "Version eight")
    assert [(v.name, v.type, v.length, v.format) for v in ds.variables] == [
        ("LONGVARIABLE", "Char", 3, None),
        ("N", "Num", 8, "8.2"),
    ]
    assert ds.variables[0].label.startswith("A label longer than forty")
    assert got["LONGVARIABLE"].tolist() == ["abc", "de"]


def test_not_an_xpt_file(tmp_path: Path) -> None:
    path = tmp_path / "x.xpt"
    path.write_bytes(b"not a transport file\n" * 10)
    with pytest.raises(InputError, match=r"x\.xpt: not a readable SAS XPORT file"):
        read_xpt(path)
    with pytest.raises(InputError, match="cannot read"):
        read_xpt(tmp_path / "missing.xpt")


def _ten_rows(tmp_path: Path) -> Path:
    """Ten 36-byte observations (a 28-byte text and a number): 360 bytes, padded to 400."""
    df = pd.DataFrame({"USUBJID": [f"S-{i:03d}" for i in range(10)], "AVAL": np.arange(10) * 1.5})
    ds = Dataset(
        "T",
        "",
        "",
        "",
        "",
        variables=(Variable("USUBJID", "", "Char", 1, length=28), Variable("AVAL", "", "Num", 2)),
    )
    path = tmp_path / "t.xpt"
    write_xpt(path, df, ds, created=CREATED)
    got, _ = read_xpt(path)
    assert got["AVAL"].tolist() == (np.arange(10) * 1.5).tolist()
    return path


def test_a_file_cut_inside_a_record_is_refused(tmp_path: Path) -> None:
    path = _ten_rows(tmp_path)
    path.write_bytes(path.read_bytes()[:-37])
    size = path.stat().st_size
    with pytest.raises(InputError) as info:
        read_xpt(path)
    assert str(info.value) == (
        f"{path}: not a complete SAS XPORT file: {size} bytes is not a whole number of "
        "80-byte records (the file is cut short or padded wrongly)"
    )


def test_a_file_cut_at_a_record_boundary_inside_an_observation_is_refused(
    tmp_path: Path,
) -> None:
    path = _ten_rows(tmp_path)
    path.write_bytes(path.read_bytes()[:-80])  # 320 bytes left: 8 rows and 32 of the 9th
    with pytest.raises(InputError) as info:
        read_xpt(path)
    assert str(info.value) == (
        f"{path}: not a complete SAS XPORT file: observation 9 is cut short (32 of its 36 bytes)"
    )


def _patched(path: Path, marker: bytes, offset: int, text: bytes) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b"HEADER RECORD*******" + marker) + offset
    data[at : at + len(text)] = text
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "marker, offset, text, message",
    [
        (b"MEMBER  HEADER", 74, b"01x0", "header field namestr record length is '01x0', not a"),
        (b"MEMBER  HEADER", 74, b"0200", "header field namestr record length is 200, not 140"),
        (b"NAMESTR HEADER", 54, b"0x-2", "header field number of variables is '0x-2', not a"),
        (b"NAMESTR HEADER", 54, b"9999", "header says 9999 variables, but the file holds no"),
        (b"NAMESTR HEADER", 54, b"0000", "header says 0 variables, but the file holds no"),
    ],
)
def test_malformed_headers_are_refused(
    tmp_path: Path, marker: bytes, offset: int, text: bytes, message: str
) -> None:
    path = _ten_rows(tmp_path)
    _patched(path, marker, offset, text)
    with pytest.raises(InputError) as info:
        read_xpt(path)
    assert str(info.value).startswith(f"{path}: {message}")


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xpt"
    os.mkfifo(fifo)
    for path, what in ((fifo, "not a regular file"), (Path("/dev/zero"), "not a regular file")):
        with pytest.raises(InputError) as info:
            read_xpt(path)
        assert str(info.value) == f"{path}: cannot read SAS XPORT file ({what})"
    with pytest.raises(InputError, match=r"missing\.xpt: cannot read SAS XPORT file \(no such"):
        read_xpt(tmp_path / "missing.xpt")


def test_text_values_sharing_a_hash_stay_apart(tmp_path, monkeypatch) -> None:
    """Text cells are grouped by a hash of their bytes and then compared byte for byte: with
    a hash that only sees the last 8 bytes, values equal there are still read apart."""
    import cdisc_umsc.read.xpt as xpt

    frame = pd.DataFrame(
        {
            "A": ["x" * 9 + "same tail", "y" * 9 + "same tail", "", "x" * 9 + "same tail"],
            "N": [1.0, 2.0, 3.0, 4.0],
        }
    )
    meta = Dataset(
        name="T", label="T", cls="", structure="", standard="",
        variables=(
            Variable(name="A", label="A", type="Char", order=1, data_type="text", length=20),
            Variable(name="N", label="N", type="Num", order=2, data_type="float", length=8),
        ),
    )  # fmt: skip
    path = tmp_path / "t.xpt"
    write_xpt(path, frame, meta, created=datetime(2020, 1, 1))
    monkeypatch.setattr(xpt, "_MIX", np.uint64(0))
    df, _meta = xpt.read_xpt(path)
    assert df["A"].tolist() == frame["A"].tolist()


def test_only_the_columns_asked_for_are_read(bundled_run) -> None:
    _result, out = bundled_run
    full, meta = read_xpt(out / "adam" / "adlb.xpt")
    part, part_meta = read_xpt(out / "adam" / "adlb.xpt", columns={"AVAL", "USUBJID", "NOPE"})
    assert list(part.columns) == ["USUBJID", "AVAL"]  # file order; unknown names ignored
    pd.testing.assert_frame_equal(part, full[["USUBJID", "AVAL"]])
    assert part_meta == meta
