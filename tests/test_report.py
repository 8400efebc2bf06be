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


def test_report_replaces_its_own_tables_and_refuses_other_files(bundled_run, tmp_path):
    _result, out = bundled_run
    csv_out, json_out = tmp_path / "r.csv", tmp_path / "r.json"
    args = ["report", "--adam", str(out / "adam"), "--csv", str(csv_out), "--json", str(json_out)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    written = csv_out.read_bytes(), json_out.read_bytes()
    again = CliRunner().invoke(main, args)  # previous tables of this command: replaced
    assert again.exit_code == 0, again.output
    assert (csv_out.read_bytes(), json_out.read_bytes()) == written
    for option, target, foreign in (
        ("--csv", csv_out, b"subject,weight\n01,70\n"),
        ("--csv", csv_out, written[0] + b"x,y,notes\n"),  # a row that is not a table's
        ("--json", json_out, b'{"efficacy": [], "labs": [], "mine": 1}\n'),
        ("--json", json_out, b"[1, 2]\n"),
    ):
        target.write_bytes(foreign)
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, res.output
        assert res.output.strip().splitlines()[-1] == (
            f"error: {option} {target}: exists and is no cdisc-umsc report table; it is left "
            "untouched (remove it, or name another file)"
        )
        assert target.read_bytes() == foreign
        target.write_bytes(written[0] if option == "--csv" else written[1])


def test_report_figures_are_the_decimals_they_stand_for(bundled_run, tmp_path):
    """Medians and changes are written without the remainder of binary arithmetic
    ((60.8 + 61.0) / 2 is 60.900000000000006 in floating point)."""
    _result, out = bundled_run
    csv_path = tmp_path / "r.csv"
    res = CliRunner().invoke(main, ["report", "--adam", str(out / "adam"), "--csv", str(csv_path)])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    labs = table[table["table"] == "labs"].set_index(["paramcd", "group"])
    cols = ["baseline_median", "last_median", "change_median"]
    assert labs.loc[("INTLK17", "All"), cols].tolist() == ["30.2", "22.7", "-4.7"]
    assert labs.loc[("TLHMTH", "Responders"), cols].tolist() == ["53.45", "60.9", "6.85"]
    assert labs.loc[("TH17TH", "Non-responders"), cols].tolist() == ["2.47", "2.41", "-0.18"]
    assert not table[cols].apply(lambda c: c.str.len().max()).gt(8).any()


def test_without_binary_noise_keeps_twelve_significant_digits_and_nan():
    from cdisc_umsc.report.labs import without_binary_noise

    values = pd.Series(
        [
            -4.699999999999999,
            60.900000000000006,
            0.1 + 0.2,
            float("nan"),
            123456.7890123456,
            2.5,
            -0.0,
        ],
        index=[5, 6, 7, 8, 9, 10, 11],
    )
    got = without_binary_noise(values)
    assert got.index.tolist() == [5, 6, 7, 8, 9, 10, 11]
    assert got.iloc[[0, 1, 2, 4, 5]].tolist() == [-4.7, 60.9, 0.3, 123456.789012, 2.5]
    assert pd.isna(got.iloc[3])
    assert str(got.iloc[6]) == "-0.0"
