"""The PHI guard: identifiers declared in the spec, and identifier patterns, stop the run."""

from __future__ import annotations

import shutil
from datetime import datetime

import pandas as pd
import pytest

from cdisc_umsc.phi import Guard, IdentifierLeak, scan
from cdisc_umsc.run import run
from tests.conftest import SPEC


def test_clean_output_passes(bundled_run):
    result, _out = bundled_run
    assert len(result.sdtm.identifier_values) == 4 * 17
    scan(result.sdtm.data, result.sdtm.identifier_values)


@pytest.mark.parametrize(
    "value, what",
    [
        ("patient 43018119620719377X called", "a PRC resident ID number"),
        ("call 13062918450 after discharge", "a mobile phone number"),
        ("wrote to li.wei@example.cn", "an e-mail address"),
    ],
)
def test_patterns(value, what):
    frame = pd.DataFrame({"AETERM": ["Fever", value], "AESEQ": [1.0, 2.0]})
    with pytest.raises(IdentifierLeak) as exc:
        scan({"AE": frame}, set())
    assert str(exc.value).startswith(f"AE: variable AETERM, row 2: holds {what}")


def test_spec_mapping_an_identifier_fails_the_run(spec_copy, raw_copy, tmp_path):
    # a spec that maps the patient's name into SUPPDM is refused when it loads, before any
    # raw value is read or anything written (the output guard stays the second line)
    from cdisc_umsc.metadata.specfile import SpecError

    path = spec_copy / "sdtm" / "dm.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + "  PATNAME:\n    label: Patient name\n    value: {field: PATNAME}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as exc:
        run(spec_copy, raw_copy, tmp_path / "out")
    assert str(exc.value).endswith(
        "study.yaml:62: field DM.PATNAME is a declared direct identifier (raw: identifiers:) "
        "and cannot be mapped, but SUPPDM.PATNAME reads it"
    )
    assert not (tmp_path / "out").exists()
    assert SPEC.exists()


SECRETS = ["吴明涛", "13062918450", "43018119620719377X", "1962-07-19", "Li", "Wang Fang"]


def _what(value: str) -> str:
    """What the guard reports for one AETERM value ("" for nothing)."""
    frame = pd.DataFrame({"AETERM": ["Fever", value]})
    try:
        Guard(SECRETS).scan_frames({"AE": frame})
    except IdentifierLeak as exc:
        message = str(exc)
        assert message.startswith("AE: variable AETERM, row 2: holds ")
        assert value not in message
        return message.split("holds ")[1].split(";")[0]
    return ""


DECLARED = "the value of a declared identifier field"


@pytest.mark.parametrize(
    "value, what",
    [
        ("lot UC-01 吴明涛", DECLARED),
        ("call 130-6291-8450", DECLARED),
        ("+86 130 6291 8450", DECLARED),
        ("１３０６２９１８４５０", DECLARED),  # full-width digits
        ("١٣٠٦٢٩١٨٤٥٠", DECLARED),  # Arabic-Indic digits
        ("ID 430181 19620719 377x", DECLARED),
        ("born 19620719", DECLARED),
        ("born 19/07/1962", DECLARED),
        ("born 07/19/1962", DECLARED),
        ("19JUL1962", DECLARED),
        ("1962年7月19日", DECLARED),
        ("WANG-FANG", DECLARED),
        ("ｗａｎｇ ｆａｎｇ", DECLARED),
        ("mobile 139 1234 5678", "a mobile phone number"),
        ("tel 0086-13912345678", "a mobile phone number"),
        ("tel (0731) 8456 1234", "a landline phone number"),
        ("010-62345678", "a landline phone number"),
        ("110105198001011234", "a PRC resident ID number"),
        ("110105 19800101 1234", "a PRC resident ID number"),
        ("old id 110105800101123", "a 15-digit PRC resident ID number"),
        ("passport E12345678", "a passport number"),
        ("护照号码 EA1234567", "a passport number"),
        ("passport no. G1234567", "a passport number"),
        ("li.wei＠example.cn", "an e-mail address"),
        ("li.wei at example dot cn", "an e-mail address"),
        ("li.wei (at) example (dot) cn", "an e-mail address"),
        ("call +44 20 7946 0958", "an international phone number"),
        ("+1 (555) 010-1002", "an international phone number"),
    ],
)
def test_identifier_spellings(value: str, what: str) -> None:
    assert _what(value) == what


@pytest.mark.parametrize(
    "value",
    [
        "Lisinopril",  # holds "li": values under 4 characters (2 for CJK) are not looked for
        "look at the dot",
        "2019-01-11",
        "2019-01-11T09:30 2019-01-12T10:40",
        "UC2019-0210-04",
        "CSU-UMSC-PSO-01-001",
        "-12.345678901234567",  # the digits of a decimal are no ID
        "0.1234567890123",
        "Wang",  # part of a declared name is not the name
        "+10 000 000 cells",  # a signed count: too few digits for a phone number
        "BP 120/80 +5 mmHg",
    ],
)
def test_ordinary_values_pass(value: str) -> None:
    assert _what(value) == ""


def test_numbers_hold_declared_values_but_no_patterns() -> None:
    frame = pd.DataFrame({"AGE": [61.0, 13062918450.0]})
    with pytest.raises(IdentifierLeak, match=f"DM: variable AGE, row 2: holds {DECLARED}"):
        Guard(SECRETS).scan_frames({"DM": frame})
    Guard(SECRETS).scan_frames({"LB": pd.DataFrame({"LBSTRESN": [13912345678.0, 1.5]})})


def test_a_number_holds_a_declared_value_only_as_its_whole_digits() -> None:
    """A derived number's digits hold any 8-digit date by chance on a large study: only a
    number whose digits are the declared value (sign and a zero fraction aside) is a leak."""
    guard = Guard(["1980-01-10"])  # compact form 19800110
    chance = [12.19800110, -3.1980011045, 219800110.5, 1980011.0, 198001100.0]
    guard.scan_frames({"ADLB": pd.DataFrame({"PCHG": chance})})
    for value in (19800110.0, -19800110.0):
        with pytest.raises(IdentifierLeak, match="ADLB: variable PCHG, row 2: holds the value"):
            guard.scan_frames({"ADLB": pd.DataFrame({"PCHG": [1.5, value]})})
    with pytest.raises(IdentifierLeak, match="ADLB: variable PARAM, row 1: holds the value"):
        guard.scan_frames({"ADLB": pd.DataFrame({"PARAM": ["x 19800110"], "PCHG": [12.5]})})


def test_first_hit_in_dataset_column_and_row_order() -> None:
    frames = {
        "B": pd.DataFrame({"X": ["a", "13912345678"]}),
        "A": pd.DataFrame({"Y": ["ok", "ok", "li@example.cn"], "Z": ["吴明涛", "", ""]}),
    }
    with pytest.raises(IdentifierLeak) as exc:
        Guard(SECRETS).scan_frames(frames)
    assert str(exc.value).startswith("A: variable Y, row 3: holds an e-mail address")


def test_files_are_scanned_but_checksums_and_dataset_files(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "manifest.json").write_text(
        '{"sha256": "a13912345678b0000000000000000000000000000000000000000000000000000"}'
    )
    (tmp_path / "dm.xpt").write_bytes(b"13912345678")
    Guard(SECRETS).scan_files(tmp_path)
    (tmp_path / "sub" / "index.html").write_text("<td>Wu Mingtao 吴明涛</td>", encoding="utf-8")
    with pytest.raises(IdentifierLeak) as exc:
        Guard(SECRETS).scan_files(tmp_path)
    assert str(exc.value) == (
        f"sub/index.html: holds {DECLARED}; direct identifiers must not reach an output"
    )


def test_a_large_file_is_scanned_in_pieces(tmp_path, monkeypatch) -> None:
    import cdisc_umsc.phi as phi

    monkeypatch.setattr(phi, "_CHUNK", 1000)
    text = "x" * 995 + "13062918450" + "y" * 3000  # across the first piece's end
    (tmp_path / "report.txt").write_text(text)
    with pytest.raises(IdentifierLeak, match=f"report.txt: holds {DECLARED}"):
        Guard(SECRETS).scan_files(tmp_path)


def test_derive_scans_what_it_writes(bundled_run, spec_copy, tmp_path) -> None:
    from cdisc_umsc.commands.derive import derive
    from cdisc_umsc.read.datasets import read_dataset
    from cdisc_umsc.write.xpt import write_xpt

    _result, out = bundled_run
    sdtm = tmp_path / "sdtm"
    shutil.copytree(out / "sdtm", sdtm)
    frame, meta = read_dataset(sdtm / "ae.xpt", encoding="ascii")
    frame.loc[0, "AETERM"] = "call 139-1234-5678"
    write_xpt(sdtm / "ae.xpt", frame, meta, created=datetime(2020, 1, 1))
    with pytest.raises(IdentifierLeak, match="adam/ADAE: variable AETERM, row 1: holds a mobile"):
        derive(spec_copy, sdtm, tmp_path / "adam")
    assert not (tmp_path / "adam").exists()


def test_validate_and_define_write_no_identifier(bundled_run, tmp_path) -> None:
    from click.testing import CliRunner

    from cdisc_umsc.cli import main
    from cdisc_umsc.write.xpt import write_xpt

    result, out = bundled_run
    sdtm = tmp_path / "sdtm"
    shutil.copytree(out / "sdtm", sdtm)
    dm = result.sdtm.data["DM"].copy()
    dm.loc[0, "SEX"] = "13912345678"  # a value outside SEX's codelist: findings quote it
    write_xpt(sdtm / "dm.xpt", dm, result.sdtm.meta["DM"], created=datetime(2020, 1, 1))
    report = tmp_path / "report.json"
    res = CliRunner().invoke(main, ["validate", str(sdtm), "--out", str(report)])
    assert res.exit_code == 4, res.output
    assert "report report.json: variable value, row" in res.output
    assert "holds a mobile phone number" in res.output and "13912345678" not in res.output
    assert not report.exists()
    before = (sdtm / "define.xml").read_bytes()
    res = CliRunner().invoke(main, ["define", "--sdtm", str(sdtm)])
    assert res.exit_code == 4, res.output
    assert "DM: variable SEX, row 1: holds a mobile phone number" in res.output
    assert (sdtm / "define.xml").read_bytes() == before


def test_a_checksum_prefix_is_no_phone_number(tmp_path) -> None:
    """The review page shows each file's sha256 first 12: hexadecimal words whose digits
    look like a landline (``d02338162400``: 023-3816-2400) are checksums, not identifiers
    (a spec with STUDYID 012345 gave such a prefix and the run stopped)."""
    assert _what("d02338162400") == ""
    assert _what("sha256 da4702338162400b") == ""
    (tmp_path / "index.html").write_text("<td>d02338162400</td><td>da47f622d93d</td>")
    Guard(SECRETS).scan_files(tmp_path)


@pytest.mark.parametrize(
    "value",
    ["tel02338162400", "电话023-3816-2400", "d-02338162400", "x 02338162400 d"],
)
def test_a_landline_next_to_letters_is_still_found(value: str) -> None:
    assert _what(value) == "a landline phone number"


def test_record_numbers_of_files_are_looked_up(tmp_path) -> None:
    """Short runs of digits (record and row numbers of the lineage) are looked up, not
    scanned: a declared date spelt as 8 digits is found, other numbers pass."""
    rows = "\n".join(f"{i},{i * 7},LBSEQ={i}" for i in range(1, 2000))
    (tmp_path / "lineage.csv").write_text(rows + "\n")
    Guard(SECRETS).scan_files(tmp_path)
    (tmp_path / "lineage.csv").write_text(rows + "\n5,19620719,LBSEQ=5\n")
    with pytest.raises(IdentifierLeak, match=f"lineage.csv: holds {DECLARED}"):
        Guard(SECRETS).scan_files(tmp_path)


def test_the_first_file_holding_an_identifier_is_named(tmp_path) -> None:
    """All files' text is scanned together; the error names the first file in path order."""
    (tmp_path / "a.csv").write_text("ok,1,2\n")
    (tmp_path / "b.html").write_text("<td>li.wei@example.cn</td>")
    (tmp_path / "c.json").write_text('{"x": "13062918450"}')
    with pytest.raises(IdentifierLeak) as exc:
        Guard(SECRETS).scan_files(tmp_path)
    assert (
        str(exc.value)
        == "b.html: holds an e-mail address; direct identifiers must not reach an output"
    )


def test_files_scanned_together_find_what_each_file_holds(tmp_path) -> None:
    """The distinct pieces of all files are scanned once, together: a folder fails exactly
    when one of its files, scanned alone, holds an identifier, and names the first such."""
    import random

    rng = random.Random(7)
    clean = [
        "ok", "12", "x", "2024-01-05", "d02338162400", "Visit 1", "1.23456789012", "LBSEQ",
        "0123456789abcdef0123456789abcdef", "130", "6291", "at home", "Li Na", "e1234567",
    ]  # fmt: skip
    risky = [
        "19620719", "1962-07-19", "130 6291 8450", "13062918450x", "a13062918450", "吴明涛",
        "li.wei@example.cn", "li at example dot cn", "e12345678", "passport no. g1234567",
        "023-3816-2400", "Wang Fang", "430181196207193770", "ＬＩ＠ＥＸＡＭＰＬＥ．ＣＮ",
    ]  # fmt: skip
    seps = [",", "\n", "<", ">", '"', "=", ";", " ", "\t"]
    guard = Guard(SECRETS)
    failed = 0
    for case in range(80):
        folder = tmp_path / str(case)
        for name in ("a.csv", "b.html", "c/d.json"):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            words = [rng.choice(risky if rng.random() < 0.03 else clean) for _ in range(9)]
            (folder / name).write_text("".join(w + rng.choice(seps) for w in words), "utf-8")
        expected = next(
            (
                f"{p.relative_to(folder).as_posix()}: holds {what}; direct identifiers must not "
                "reach an output"
                for p in sorted(folder.rglob("*"))
                if p.is_file() and (what := guard._file_hit(p.read_bytes()))
            ),
            None,
        )
        if expected is None:
            guard.scan_files(folder)
            continue
        failed += 1
        with pytest.raises(IdentifierLeak) as exc:
            guard.scan_files(folder)
        assert str(exc.value) == expected
    assert 10 < failed < 70  # both outcomes are tried


@pytest.mark.parametrize("value", ["5550101002", "(555) 010-1002", "05550101002", "+1 555 0101002"])
def test_a_phone_declared_with_its_country_code_is_found_without_it(value: str) -> None:
    frame = pd.DataFrame({"AETERM": ["Fever", value]})
    with pytest.raises(IdentifierLeak, match=f"row 2: holds {DECLARED}") as exc:
        Guard(["+1 555 010 1002"]).scan_frames({"AE": frame})
    assert value not in str(exc.value) and "555" not in str(exc.value)


def test_error_messages_never_show_a_value_holding_an_identifier_pattern() -> None:
    from cdisc_umsc.read import forms

    class _Form:
        fields = ()

    assert forms._shown(_Form(), "AETERM", "Fever") == "(got 'Fever')"  # type: ignore[arg-type]
    shown = forms._shown(_Form(), "AETERM", "+1 555 010 1002")  # type: ignore[arg-type]
    assert shown == "(value not shown: it holds an international phone number)"
    shown = forms._shown(_Form(), "AETERM", "li.wei@example.cn")  # type: ignore[arg-type]
    assert shown == "(value not shown: it holds an e-mail address)"
