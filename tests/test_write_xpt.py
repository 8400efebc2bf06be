"""SAS XPORT v5 writer: byte-for-byte against pyreadstat, read-back through two readers, limits."""

from __future__ import annotations

import os
import struct
import warnings
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.write.xpt import ieee_to_ibm, parse_format, sas_timestamp, write_xpt

CREATED = datetime(2024, 3, 5, 7, 8, 9)
STAMP = b"05MAR24:07:08:09"
# Offsets of the 16-byte timestamps in the header records (TS-140): record 2 end, record 3
# start, member record end, member label record start.
STAMP_OFFSETS = (80 + 64, 160, 400 + 64, 480)


def _norm(raw: bytes) -> bytes:
    out = bytearray(raw)
    for off in STAMP_OFFSETS:
        out[off : off + 16] = STAMP
    return bytes(out)


def _ds(name: str, label: str, *vars_: Variable) -> Dataset:
    return Dataset(name, label, "", "", "", variables=tuple(vars_))


def _char(name: str, label: str = "", length: int | None = None, order: int = 1) -> Variable:
    return Variable(name, label, "Char", order, length=length)


def _num(name: str, label: str = "", fmt: str | None = None, order: int = 1) -> Variable:
    return Variable(name, label, "Num", order, format=fmt)


def _oracle(tmp: Path, df: pd.DataFrame, ds: Dataset) -> bytes:
    path = tmp / "oracle.xpt"
    pyreadstat.write_xport(
        df,
        path,
        file_format_version=5,
        table_name=ds.name,
        file_label=ds.label,
        column_labels={v.name: v.label for v in ds.variables},
        variable_format={v.name: v.format for v in ds.variables if v.format},
    )
    return _norm(path.read_bytes())


def _ours(tmp: Path, df: pd.DataFrame, ds: Dataset, **kw: object) -> Path:
    path = tmp / f"{ds.name.lower()}.xpt"
    write_xpt(path, df, ds, created=CREATED, **kw)
    return path


def _pandas(path: Path, encoding: str | None = "ascii") -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_sas(path, format="xport", encoding=encoding)


def _expected_format(fmt: str) -> tuple[str, int, int]:
    """(name, width, decimals) that SAS TS-140 stores for a display format such as DATE9. or 8.2."""
    name = fmt.rstrip("0123456789.")
    digits = fmt[len(name) :].rstrip(".")
    width, _, dec = digits.partition(".")
    return name.upper(), int(width or 0), int(dec or 0)


def _namestr_formats(path: Path) -> dict[str, tuple[str, int, int]]:
    """Display formats as the namestr records hold them (TS-140: NFORM at byte 56 of each
    140-byte namestr, NFL and NFD after it), read from the file itself, not through a reader."""
    data = path.read_bytes()
    head = data.find(b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!")
    count = int(data[head + 54 : head + 58])
    start = head + 80
    found = {}
    for i in range(count):
        rec = data[start + 140 * i : start + 140 * (i + 1)]
        name = rec[8:16].decode("ascii").rstrip()
        form = rec[56:64].decode("ascii").rstrip()
        width, dec = struct.unpack(">hh", rec[64:68])
        if form or width or dec:
            found[name] = (form, width, dec)
    return found


def _assert_reads_back(
    path: Path, df: pd.DataFrame, ds: Dataset, widths: dict[str, int], pandas_counts: bool = True
) -> None:
    """pyreadstat sees the rows, values, labels, lengths and formats; pandas the rows and values
    (unless its row-count heuristic for records of at most 80 bytes is known to fail)."""
    got, meta = pyreadstat.read_xport(path, disable_datetime_conversion=True)
    assert meta.table_name == ds.name
    assert (meta.file_label or "") == ds.label
    assert list(got.columns) == ds.names
    assert meta.variable_storage_width == widths
    assert {k: (v or "") for k, v in meta.column_names_to_labels.items()} == {
        v.name: v.label for v in ds.variables
    }
    assert _namestr_formats(path) == {
        v.name: _expected_format(v.format) for v in ds.variables if v.format
    }
    assert len(got) == len(df)
    for v in ds.variables:
        if v.type == "Char":
            expect = df[v.name].fillna("").astype(object).tolist()
            assert got[v.name].tolist() == expect
        else:
            expect = df[v.name].to_numpy(dtype=float, na_value=np.nan)
            np.testing.assert_array_equal(got[v.name].to_numpy(dtype=float), expect)
    if not pandas_counts:
        return
    via_pandas = _pandas(path)
    assert len(via_pandas) == len(df)
    for v in ds.variables:
        if v.type == "Char":
            assert via_pandas[v.name].tolist() == df[v.name].fillna("").astype(object).tolist()
        else:
            expect = df[v.name].to_numpy(dtype=float, na_value=np.nan)
            from_pandas = via_pandas[v.name].to_numpy(dtype=float, copy=True)
            from_pandas[from_pandas == 16.0**-65] = 0.0  # pandas decodes IBM zero as 16**-65
            np.testing.assert_array_equal(from_pandas, expect)


MIXED = (
    pd.DataFrame(
        {
            "STUDYID": ["UMSC-01", "UMSC-01", "UMSC-01", "UMSC-01"],
            "USUBJID": ["", None, "UMSC-01-001", "UMSC-01-0002"],
            "AVAL": [1.5, np.nan, -3.0, 1e-70],
            "ADT": [23000.0, -0.0, 0.1, 16.0**62],
        }
    ),
    _ds(
        "ADX",
        "Analysis Example",
        _char("STUDYID", "Study Identifier"),
        _char("USUBJID", "Unique Subject Identifier"),
        _num("AVAL", "Analysis Value", "8.2"),
        _num("ADT", "Analysis Date", "DATE9."),
    ),
)
CHAR_ONLY = (
    pd.DataFrame(
        {
            "USUBJID": ["01-701-1015", "01-701-1023", "01-701-1028"],
            "RACE": ["WHITE", "AMERICAN INDIAN OR ALASKA NATIVE", "BLACK OR AFRICAN AMERICAN"],
            "ETHNIC": ["NOT HISPANIC OR LATINO", "HISPANIC OR LATINO", ""],
            "ARM": ["Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"],
        }
    ),
    _ds(
        "DM",
        "Demographics",
        _char("USUBJID", "Unique Subject Identifier"),
        _char("RACE", "Race"),
        _char("ETHNIC", "Ethnicity"),
        _char("ARM", "Description of Planned Arm"),
    ),
)
MISSING = (
    pd.DataFrame(
        {
            "TEXT": pd.Series([None, "x", None], dtype="str"),
            "N1": pd.array([1, None, 3], dtype="Int64"),
            "N2": [np.nan, np.nan, np.nan],
        }
    ),
    _ds("MISS", "", _char("TEXT"), _num("N1", "", "BEST12."), _num("N2", "All missing")),
)
RNG = np.random.default_rng(20240305)
WIDE = (
    pd.DataFrame(
        {
            "ID": [f"S{i:05d}" for i in range(500)],
            "X": RNG.standard_normal(500) * 10.0 ** RNG.integers(-70, 70, 500),
            "K": RNG.integers(-(2**40), 2**40, 500),
        }
    ),
    _ds("WIDE", "Many magnitudes", _char("ID"), _num("X"), _num("K", "", "12.")),
)


@pytest.mark.parametrize(
    "case", [MIXED, CHAR_ONLY, MISSING, WIDE], ids=["mixed", "char", "na", "wide"]
)
@pytest.mark.parametrize("explicit_lengths", [False, True])
def test_bytes_match_pyreadstat(tmp_path: Path, case: tuple, explicit_lengths: bool) -> None:
    df, ds = case
    if explicit_lengths:  # lengths declared equal to the longest value give the same bytes
        lengths = {
            v.name: max(1, int(df[v.name].fillna("").str.len().max()))
            for v in ds.variables
            if v.type == "Char"
        }
        ds = _ds(ds.name, ds.label, *(_set_length(v, lengths.get(v.name)) for v in ds.variables))
    ours = _ours(tmp_path, df, ds)
    assert _norm(ours.read_bytes()) == _oracle(tmp_path, df, ds)
    widths = {
        v.name: 8 if v.type == "Num" else max(1, int(df[v.name].fillna("").str.len().max()))
        for v in ds.variables
    }
    _assert_reads_back(ours, df, ds, widths)


def _set_length(v: Variable, length: int | None) -> Variable:
    return Variable(v.name, v.label, v.type, v.order, length=length, format=v.format)


def test_declared_length_longer_than_data(tmp_path: Path) -> None:
    # pyreadstat sizes text from the data; a blank-padded value stands in for the declaration.
    df = pd.DataFrame({"AETERM": ["HEADACHE", "RASH"], "AESEQ": [1.0, 2.0]})
    ds = _ds("AE", "Adverse Events", _char("AETERM", "Reported Term", 100), _num("AESEQ", "Seq"))
    ours = _ours(tmp_path, df, ds)
    padded = df.assign(AETERM=["HEADACHE".ljust(100), "RASH"])
    assert _norm(ours.read_bytes()) == _oracle(tmp_path, padded, ds)
    _assert_reads_back(ours, df, ds, {"AETERM": 100, "AESEQ": 8})


def test_header_layout(tmp_path: Path) -> None:
    df, ds = MIXED
    raw = _ours(tmp_path, df, ds).read_bytes()
    assert len(raw) % 80 == 0
    assert raw[:80] == b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"0" * 30 + b"  "
    assert all(raw[o : o + 16] == STAMP for o in STAMP_OFFSETS)
    assert raw[400 + 8 : 400 + 16] == b"ADX     "
    assert raw[480 + 32 : 480 + 72] == b"Analysis Example".ljust(40)
    assert raw[560 + 48 : 560 + 78] == b"00000" + b"00004" + b"0" * 20
    # third namestr: AVAL, numeric, length 8, varnum 3, format "" 8.2, position 19+12=31
    ns = raw[640 + 2 * 140 : 640 + 3 * 140]
    ntype, _, nlng, nvar0 = struct.unpack(">hhhh", ns[:8])
    assert (ntype, nlng, nvar0) == (1, 8, 3)
    assert ns[8:16] == b"AVAL    " and ns[56:64] == b" " * 8
    assert struct.unpack(">hh", ns[64:68]) == (8, 2)
    assert struct.unpack(">i", ns[84:88]) == (7 + 12,)
    assert sas_timestamp(datetime(1999, 12, 31, 23, 59, 58)) == "31DEC99:23:59:58"


def test_deterministic_and_atomic(tmp_path: Path) -> None:
    df, ds = MIXED
    first = _ours(tmp_path, df, ds).read_bytes()
    assert _ours(tmp_path, df, ds).read_bytes() == first
    bad = df.assign(AVAL=[1.0, np.inf, 2.0, 3.0])
    with pytest.raises(WriteError):
        _ours(tmp_path, bad, ds)
    assert (tmp_path / "adx.xpt").read_bytes() == first  # a failed write leaves the old file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adx.xpt"]


def test_zero_rows(tmp_path: Path) -> None:
    df = pd.DataFrame({"USUBJID": pd.Series([], dtype="str"), "AGE": pd.Series([], dtype=float)})
    ds = _ds("DM", "Demographics", _char("USUBJID", "Subject", 11), _num("AGE", "Age"))
    path = _ours(tmp_path, df, ds)
    raw = path.read_bytes()
    assert raw.endswith(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!" + b"0" * 30 + b"  ")
    _assert_reads_back(path, df, ds, {"USUBJID": 11, "AGE": 8}, pandas_counts=False)
    with pytest.raises(StopIteration):  # pandas cannot read any zero-row XPT, SAS's included
        _pandas(path)
    auto = _ds("DM", "Demographics", _char("USUBJID", "Subject"), _num("AGE", "Age"))
    _, meta = pyreadstat.read_xport(_ours(tmp_path, df, auto))
    assert meta.variable_storage_width == {"USUBJID": 1, "AGE": 8}  # min length 1


@pytest.mark.parametrize(
    "values",
    [["A", "B", ""], ["AB", "", ""], ["", "", ""], [""], ["X" * 50, "Y", ""]],
    ids=["one", "two", "all", "single", "long"],
)
@pytest.mark.parametrize("wide", [True, False], ids=["reclen90", "auto"])
def test_all_blank_final_observation(tmp_path: Path, values: list[str], wide: bool) -> None:
    # Blank-padded, such a record is indistinguishable from padding: ReadStat drops trailing
    # blank rows, so pyreadstat's own writer loses it; ours keeps the row count.
    df = pd.DataFrame({"C": values, "D": [""] * len(values)})
    ds = _ds(
        "BLANK", "", _char("C", "", 50 if wide else None), _char("D", "", 40 if wide else None)
    )
    oracle, _ = pyreadstat.read_xport(_write_oracle_file(tmp_path, df, ds))
    assert len(oracle) < len(values)
    path = _ours(tmp_path, df, ds)
    widths = {"C": 50, "D": 40} if wide else {"C": max(1, *map(len, values)), "D": 1}
    # pandas is checked where its row count does not depend on its <= 80-byte heuristic
    _assert_reads_back(path, df, ds, widths, pandas_counts=wide)
    raw = path.read_bytes()
    end = len(raw) - (-(len(values) * sum(widths.values())) % 80)
    assert raw[end - 1] == 0 and raw[end - sum(widths.values()) : end - 1].strip() == b""


def _write_oracle_file(tmp: Path, df: pd.DataFrame, ds: Dataset) -> Path:
    _oracle(tmp, df, ds)
    return tmp / "oracle.xpt"


@pytest.mark.parametrize(
    ("values", "length", "pandas_rows"),
    [(["A", "B", "C"], 16, 1), (["AB", "CD", "E"], None, 4)],
    ids=["blank-words", "tiny"],
)
def test_pandas_heuristic_limit(
    tmp_path: Path, values: list[str], length: int | None, pandas_rows: int
) -> None:
    # For records of at most 80 bytes pandas counts every all-blank 8-byte word of the last
    # record as padding (and, for records under 8 bytes, padding as rows). The bytes are the
    # TS-140 ones pyreadstat writes too, and ReadStat counts them right.
    df = pd.DataFrame({"F": values})
    ds = _ds("SHORT", "", _char("F", "", length))
    path = _ours(tmp_path, df, ds)
    padded = df.assign(F=[values[0].ljust(length or 0), *values[1:]])
    assert _norm(path.read_bytes()) == _oracle(tmp_path, padded, ds)
    _assert_reads_back(path, df, ds, {"F": length or 2}, pandas_counts=False)
    assert len(_pandas(path)) == pandas_rows


def test_encoding_is_explicit(tmp_path: Path) -> None:
    df = pd.DataFrame({"TSVAL": ["Alzheimer\u2019s Disease", "plain"]})
    ds = _ds("TS", "Trial Summary", _char("TSVAL", "Parameter Value"))
    with pytest.raises(WriteError, match=r"XPT TS: variable TSVAL, row 1: .*not valid ascii"):
        _ours(tmp_path, df, ds)
    path = _ours(tmp_path, df, ds, encoding="cp1252")
    assert b"Alzheimer\x92s Disease" in path.read_bytes()
    got, meta = pyreadstat.read_xport(path, encoding="WINDOWS-1252")
    assert got["TSVAL"].tolist() == df["TSVAL"].tolist()
    assert meta.variable_storage_width == {"TSVAL": 19}
    utf8 = _ours(tmp_path, df, ds, encoding="utf-8")
    _, meta = pyreadstat.read_xport(utf8, encoding="UTF-8")
    assert meta.variable_storage_width == {"TSVAL": 21}  # lengths are bytes


@pytest.mark.parametrize(
    ("df", "ds", "message"),
    [
        (
            pd.DataFrame({"A": ["x"], "B": ["y"]}),
            _ds("T", "", _char("A"), _char("C")),
            r"XPT T: data columns differ .*missing \['C'\], extra \['B'\]",
        ),
        (pd.DataFrame({"a": ["x"]}), _ds("T", "", _char("a")), r"variable 'a': name 'a' must"),
        (pd.DataFrame({"A": ["x"]}), _ds("TOOLONGNM", "", _char("A")), r"name 'TOOLONGNM'"),
        (pd.DataFrame({"A": ["x"]}), _ds("1T", "", _char("A")), r"name '1T'"),
        (pd.DataFrame({"A": ["x"]}), _ds("T", "L" * 41, _char("A")), r"XPT T label: .*41 bytes"),
        (
            pd.DataFrame({"A": ["x"]}),
            _ds("T", "", _char("A", "L" * 41)),
            r"variable A label: .*41 bytes, XPT v5 allows 40",
        ),
        (
            pd.DataFrame({"A": ["ok", "toolong"]}),
            _ds("T", "", _char("A", "", 3)),
            r"variable A, row 2: value is 7 bytes, longer than the declared length 3",
        ),
        (
            pd.DataFrame({"A": ["x", "y" * 201]}),
            _ds("T", "", _char("A")),
            r"variable A, row 2: value is 201 bytes, longer than the XPT v5 maximum 200",
        ),
        (pd.DataFrame({"A": ["x"]}), _ds("T", "", _char("A", "", 201)), r"length 201 is outside"),
        (pd.DataFrame({"A": ["x"]}), _ds("T", "", _char("A", "", 0)), r"length 0 is outside"),
        (
            pd.DataFrame({"A": ["ok", "a\x00"]}),
            _ds("T", "", _char("A", "", 5)),
            r"variable A, row 2: 'a\\x00' contains a NUL",
        ),
        (
            pd.DataFrame({"A": ["ok", "caf\u00e9"]}),
            _ds("T", "", _char("A")),
            r"variable A, row 2: 'caf\u00e9' is not valid ascii",
        ),
        (
            pd.DataFrame({"A": ["ok", "a\x00b"]}),
            _ds("T", "", _char("A")),
            r"variable A, row 2: 'a\\x00b' contains a NUL",
        ),
        (
            pd.DataFrame({"A": pd.Series(["x", 5], dtype=object)}),
            _ds("T", "", _char("A")),
            r"variable A, row 2: expected a character value, found 5",
        ),
        (
            pd.DataFrame({"N": [1.0, -np.inf]}),
            _ds("T", "", _num("N")),
            r"variable N, row 2: -inf is not allowed",
        ),
        (
            pd.DataFrame({"N": [1.0, 2.0, 1e75]}),
            _ds("T", "", _num("N")),
            r"variable N, row 3: 1e\+75 is outside the IBM 370 double range",
        ),
        (
            pd.DataFrame({"N": [1e-80]}),
            _ds("T", "", _num("N")),
            r"variable N, row 1: 1e-80 is outside",
        ),
        (
            pd.DataFrame({"N": pd.Series(["1", "2"], dtype="str")}),
            _ds("T", "", _num("N")),
            r"variable N, row 1: expected a numeric value \(column dtype str\), found '1'",
        ),
        (
            pd.DataFrame({"N": pd.Series([1.0, "2"], dtype=object)}),
            _ds("T", "", _num("N")),
            r"variable N, row 2: expected a numeric value .*found '2'",
        ),
        (pd.DataFrame({"N": [True, False]}), _ds("T", "", _num("N")), r"row 1: expected a numeric"),
        (
            pd.DataFrame({"N": [1, 2**53 + 1]}),
            _ds("T", "", _num("N")),
            r"variable N, row 2: integer 9007199254740993 cannot be held exactly",
        ),
        (pd.DataFrame({"N": [1.0]}), _ds("T", "", _num("N", "", "DATE 9")), r"format 'DATE 9'"),
        (pd.DataFrame({"N": [1.0]}), _ds("T", "", _num("N", "", "E8601DATETIME19.")), "fit XPT"),
    ],
)
def test_limits_raise_one_line(tmp_path: Path, df: pd.DataFrame, ds: Dataset, message: str) -> None:
    with pytest.raises(WriteError, match=message) as info:
        write_xpt(tmp_path / "x.xpt", df, ds, created=CREATED)
    assert "\n" not in str(info.value)
    assert not list(tmp_path.iterdir())


def test_numeric_inputs_accepted(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "I": np.array([1, -2, 3], dtype=np.int32),
            "O": pd.Series([1, None, 2.5], dtype=object),
            "F": np.array([0.5, 1.5, np.nan], dtype=np.float32),
        }
    )
    ds = _ds("NUMS", "", _num("I"), _num("O"), _num("F"))
    path = _ours(tmp_path, df, ds)
    got, _ = pyreadstat.read_xport(path)
    assert got["I"].tolist() == [1.0, -2.0, 3.0]
    assert got["O"].tolist()[::2] == [1.0, 2.5] and np.isnan(got["O"][1])
    assert got["F"].tolist()[:2] == [0.5, 1.5] and np.isnan(got["F"][2])


@pytest.mark.parametrize(
    ("fmt", "parts"),
    [
        ("DATE9.", ("DATE", 9, 0)),
        ("8.2", ("", 8, 2)),
        ("$CHAR20.", ("$CHAR", 20, 0)),
        ("$200.", ("$", 200, 0)),
        ("E8601DA.", ("E8601DA", 0, 0)),
        ("best12.", ("BEST", 12, 0)),
        (None, ("", 0, 0)),
    ],
)
def test_parse_format(fmt: str | None, parts: tuple[str, int, int]) -> None:
    assert parse_format(fmt, "here") == parts


def _ibm_value(bits: int) -> Fraction:
    sign = -1 if bits >> 63 else 1
    expo = (bits >> 56) & 0x7F
    frac = bits & ((1 << 56) - 1)
    return sign * Fraction(frac, 1 << 56) * Fraction(16) ** (expo - 64)


@settings(max_examples=400, deadline=None)
@given(
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda x: x == 0 or 16.0**-65 <= abs(x) <= 16.0**62
    )
)
def test_ieee_to_ibm_is_exact_and_normalised(x: float) -> None:
    bits, bad = ieee_to_ibm(np.array([x]))
    assert not bad[0]
    value = int(bits[0])
    assert _ibm_value(value) == Fraction(x)
    if x != 0:
        assert (value >> 52) & 0xF != 0  # leading hex digit of the fraction is non-zero


def test_ieee_to_ibm_missing_and_out_of_range() -> None:
    bits, bad = ieee_to_ibm(
        np.array([np.nan, np.inf, 5e-324, np.nextafter(16.0**62, 17.0**62), -(16.0**-65)])
    )
    assert int(bits[0]) == 0x2E << 56
    assert bad.tolist() == [False, True, True, True, False]


def test_pilot_observations_match_sas(tmp_path: Path) -> None:
    """Our observation records equal those SAS wrote for the CDISC pilot's DM."""
    shared = Path(__file__).resolve().parents[1].parent / "shared"
    src = shared / "reference/cdiscpilot01/sdtm/dm.xpt"
    if not src.exists():
        pytest.skip("../shared is absent")
    from cdisc_umsc.read.xpt import read_xpt

    df, ds = read_xpt(src)
    ours = _ours(tmp_path, df, ds).read_bytes()
    theirs = src.read_bytes()
    marker = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
    assert ours[ours.index(marker) :] == theirs[theirs.index(marker) :]
    assert os.path.getsize(tmp_path / "dm.xpt") == len(theirs)
