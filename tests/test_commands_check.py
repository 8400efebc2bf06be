"""``cdisc-umsc check``: the checks run makes first, on the spec alone or on spec and raw forms,
writing nothing; a failed check is one line and exit 2, spec errors before data errors."""

from __future__ import annotations

from click.testing import CliRunner

from cdisc_umsc.cli import main
from tests.conftest import RAW, SPEC


def _check(*args: str):
    return CliRunner().invoke(main, ["check", *args])


def test_spec_alone_lists_what_it_declares(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = _check("--spec", str(SPEC))
    assert res.exit_code == 0, res.output
    assert res.output.splitlines() == [
        f"CSU-UMSC-PSO: SDTMIG 3.4, SDTM CT 2025-03-28, ADaMIG 1.3  (spec {SPEC}: no errors)",
        "  raw forms       10  AE, DM, DOSEGRP, ENROL, EOS, INFUSION, LAB, PASI, PGA, VISIT",
        "  SDTM domains     9  AE, DM, DS, EC, EX, LB, QS, SV, VS",
        "  trial design     6  SE, TA, TE, TI, TS, TV",
        "  ADaM datasets    4  ADAE, ADLB, ADQS, ADSL",
        "  endpoints        1  ADQS FOLLOW-UP MONTH 6",
        "",
        "Nothing written.",
    ]
    assert list(tmp_path.iterdir()) == []


def test_with_raw_accounts_for_every_record_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = _check("--spec", str(SPEC), "--raw", str(RAW))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].endswith(f"(spec {SPEC}, raw {RAW}: no errors)")
    assert "  INFUSION.csv       56 read     56 mapped    0 excluded" in lines
    assert "  LAB.csv          1864 read   1864 mapped    0 excluded" in lines
    assert "  LAB.LBNAME: the local lab test name; LBTEST comes from the CDISC test code" in lines
    assert "  sdtm/LB          1864" in lines
    assert "  adam/ADSL          17" in lines
    assert lines[-1] == "Nothing written."
    assert list(tmp_path.iterdir()) == []


def test_spec_error_is_one_line_with_file_and_line(spec_copy):
    ae = spec_copy / "sdtm" / "ae.yaml"
    ae.write_text(
        ae.read_text(encoding="utf-8").replace("{field: AETERM}", "{field: AETERMX}"),
        encoding="utf-8",
    )
    res = _check("--spec", str(spec_copy))
    assert res.exit_code == 2
    assert res.output == (
        f"error: {spec_copy.name}/sdtm/ae.yaml:15: variable AETERM: unknown raw field 'AETERMX' "
        "(not a field of the domain's forms nor a variable of AE)\n"
    )


def test_spec_is_checked_before_any_raw_form_is_read(spec_copy, tmp_path):
    """A spec error is reported even when the raw folder does not exist: run and check both
    check the spec first."""
    ae = spec_copy / "sdtm" / "ae.yaml"
    ae.write_text(
        ae.read_text(encoding="utf-8").replace("{field: AETERM}", "{field: AETERMX}"),
        encoding="utf-8",
    )
    missing = str(tmp_path / "no-such-raw")
    for args in (
        ["check", "--spec", str(spec_copy), "--raw", missing],
        ["run", "--spec", str(spec_copy), "--raw", missing, "--out", str(tmp_path / "out")],
    ):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, args
        assert "sdtm/ae.yaml:15: variable AETERM: unknown raw field 'AETERMX'" in res.output
    assert not (tmp_path / "out").exists()


def test_raw_error_names_file_row_and_column(raw_copy):
    ae = raw_copy / "AE.csv"
    lines = ae.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace("15/JAN/2019", "31/FEB/2019", 1)
    ae.write_text("".join(lines), encoding="utf-8")
    assert _check("--spec", str(SPEC)).exit_code == 0  # the spec alone is fine
    res = _check("--spec", str(SPEC), "--raw", str(raw_copy))
    assert res.exit_code == 2
    assert res.output == (
        "error: AE.csv: row 1, column AESTDAT: day out of range for the month (impossible "
        "date) (got '31/FEB/2019')\n"
    )


def test_spec_check_imports_no_output_product():
    """The spec check costs a second because it loads no writer, validator or plotting
    library: neither matplotlib nor the validation, lineage or review modules are imported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from cdisc_umsc.cli import main\n"
        "main(['check'], standalone_mode=False)\n"
        "heavy = ('matplotlib', 'cdisc_umsc.validate', 'cdisc_umsc.lineage', 'cdisc_umsc.review')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert res.stdout.splitlines()[-1] == "[]"


def test_check_raw_finds_text_the_xpt_files_would_refuse(raw_copy):
    """Non-ASCII text that would reach an XPT file stops check --raw as it stops run, with
    the same line; --format json (Dataset-JSON holds it) checks no XPT text."""
    import csv

    path = raw_copy / "INFUSION.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    rows[5][rows[0].index("LOTNO")] = "批号UC2019-0210-04"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    res = _check("--spec", str(SPEC), "--raw", str(raw_copy))
    assert res.exit_code == 2, res.output
    assert res.output.startswith(
        "error: XPT EC: variable ECLOT, row 6: '批号UC2019-0210-04' is not valid ascii: the XPT "
        "files carry ASCII text"
    )
    ok = _check("--spec", str(SPEC), "--raw", str(raw_copy), "--format", "json")
    assert ok.exit_code == 0, ok.output
