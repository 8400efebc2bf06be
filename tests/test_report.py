"""`cdisc-umsc report`: responder and laboratory tables from the written ADaM files only, as
the study's ADaM spec plans them."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from cdisc_umsc.cli import main


def test_report_from_adam_files(bundled_run, tmp_path):
    _result, out = bundled_run
    res = CliRunner().invoke(
        main,
        [
            "report",
            "--adam",
            str(out / "adam"),
            "--json",
            str(tmp_path / "r.json"),
            "--csv",
            str(tmp_path / "r.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "r.json").read_text())
    eff = {
        (r["endpoint"], r["group"], r["level"]): (r["n"], r["N"], r["pct"])
        for r in data["efficacy"]
    }
    assert eff[("PASI40", "Overall", "")] == (8, 17, 47.1)
    assert eff[("PASI40", "SEX", "M")] == (2, 8, 25.0)
    assert eff[("PASI40", "SEX", "F")] == (6, 9, 66.7)
    assert eff[("PGA 0/1", "Overall", "")] == (3, 17, 17.6)
    # PASI50 >= PASI75 >= PASI90, all within PASI40
    assert (
        eff[("PASI40", "Overall", "")][0]
        >= eff[("PASI50", "Overall", "")][0]
        >= eff[("PASI75", "Overall", "")][0]
        >= eff[("PASI90", "Overall", "")][0]
    )
    by_arm = [v for k, v in eff.items() if k[0] == "PASI40" and k[1] == "ARM"]
    assert sum(n for n, _N, _p in by_arm) == 8 and sum(N for _n, N, _p in by_arm) == 17
    imm = {(r["paramcd"], r["group"]): r for r in data["labs"]}
    assert imm[("TLHRTLH", "All")]["change_median"] > 0
    assert imm[("TLHMTH", "All")]["change_median"] > 0
    assert imm[("TH17TH", "All")]["change_median"] < 0
    assert imm[("TLHNTH", "All")]["change_median"] < 0
    assert imm[("INTLK17", "Responders")]["change_median"] < 0
    assert (
        imm[("TLHRTLH", "Responders")]["baseline_median"]
        < imm[("TLHRTLH", "Non-responders")]["baseline_median"]
    )
    assert imm[("TLHRTLH", "Responders")]["N"] == 8
    assert "PASI40     Overall" in res.output
    assert (tmp_path / "r.csv").read_text().count("\n") == len(data["efficacy"]) + len(
        data["labs"]
    ) + 1
    table = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    pasi40 = table[(table["endpoint"] == "PASI40") & (table["group"] == "Overall")]
    # counts are written as whole numbers even where the lab rows have none
    assert pasi40[["n", "N", "pct"]].values.tolist() == [["8", "17", "47.1"]]


def test_report_groups_and_tests_from_the_command_line(bundled_run):
    _result, out = bundled_run
    res = CliRunner().invoke(
        main, ["report", "--adam", str(out / "adam"), "--by", "SEX", "--tests", "INTLK17"]
    )
    assert res.exit_code == 0, res.output
    assert "SEX=M" in res.output and "ARM=" not in res.output
    assert "INTLK17" in res.output and "TLHRTLH" not in res.output


def test_an_unknown_test_code_is_an_error(bundled_run):
    _result, out = bundled_run
    res = CliRunner().invoke(main, ["report", "--adam", str(out / "adam"), "--tests", "NOPE"])
    assert res.exit_code == 2
    assert res.output.startswith("error: ADLB: NOPE is not a parameter of the dataset")


def test_report_from_the_spec_and_a_missing_folder(bundled_run, tmp_path):
    from tests.conftest import SPEC

    res = CliRunner().invoke(main, ["report", "--adam", str(tmp_path)])
    assert res.exit_code == 2 and "no run manifest with a review plan" in res.output
    res = CliRunner().invoke(main, ["report", "--adam", str(tmp_path), "--spec", str(SPEC)])
    assert res.exit_code == 2 and "no adqs.xpt or adqs.json" in res.output
