"""fixtures/umsc/synth.py: a seeded synthetic trial shaped like fixtures/umsc/raw that the
bundled spec maps unchanged, deterministic for a seed, with a dense lab schedule for scale runs."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import load_script

synth = load_script("fixtures/umsc/synth.py")

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "fixtures" / "umsc" / "raw"
SPEC = ROOT / "mappings" / "umsc"
FORMS = ("DM", "ENROL", "DOSEGRP", "INFUSION", "VISIT", "AE", "LAB", "PASI", "PGA", "EOS")


def _fixture(form: str) -> pd.DataFrame:
    return pd.read_csv(RAW / f"{form}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def trial() -> dict[str, pd.DataFrame]:
    return synth.build(120, seed=5)


def test_same_forms_and_columns_as_the_fixture(trial):
    assert list(trial) == list(FORMS)
    for form in FORMS:
        assert list(trial[form].columns) == list(_fixture(form).columns), form


def test_deterministic_bytes_for_a_seed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    synth.write_trial(a, 40, seed=3)
    synth.write_trial(b, 40, seed=3)
    for form in FORMS:
        assert (a / f"{form}.csv").read_bytes() == (b / f"{form}.csv").read_bytes(), form
    synth.write_trial(b, 40, seed=4)
    assert (a / "LAB.csv").read_bytes() != (b / "LAB.csv").read_bytes()
    assert not list(a.glob(".*"))  # no temporary files left behind


def test_vocabularies_are_the_fixture_and_spec_vocabularies(trial):
    recodes = yaml.safe_load((SPEC / "codelists.yaml").read_text(encoding="utf-8"))["recodes"]
    assert trial["DM"]["SITEID"].str.fullmatch(r"\d{2}").all()  # one site per 100 subjects
    same_as_fixture = {
        "DM": ["SEX"],
        "ENROL": ["ELIGYN"],
        "INFUSION": ["INFYN"],
        "VISIT": ["VISIT"],
        "LAB": ["LBCAT", "LBCODE", "LBNAME", "LBUNIT"],
        "PASI": ["REGION"],
        "EOS": ["COMPLYN"],
        "AE": ["AESER", "AEONGO"],
    }
    for form, cols in same_as_fixture.items():
        for col in cols:
            assert set(trial[form][col]) <= set(_fixture(form)[col]), (form, col)
    in_recode = {
        ("DM", "NATION"): "nation",
        ("AE", "AESEV"): "aesev",
        ("AE", "AEREL"): "aerel",
        ("AE", "AEACN"): "aeacn",
        ("AE", "AEOUT"): "aeout",
        ("EOS", "DCREAS"): "dcreas",
    }
    for (form, col), table in in_recode.items():
        values = set(trial[form][col]) - {""}
        assert values and values <= set(recodes[table]["map"]), (form, col)
    coding = pd.read_csv(SPEC / "coding" / "ae_dictionary.csv", dtype=str, comment="#")
    assert set(trial["AE"]["AETERM"].str.strip().str.upper()) <= set(coding["VERBATIM"])


def test_design_facts_hold(trial):
    dm, enrol, inf, vis = trial["DM"], trial["ENROL"], trial["INFUSION"], trial["VISIT"]
    assert dm["SUBJID"].is_unique and dm["SUBJID"].str.fullmatch(r"\d{3}").all()
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    digits = np.array([[int(c) for c in s[:17]] for s in dm["IDNO"]])
    check = np.array(list("10X98765432"))[(digits @ weights) % 11]
    assert (check == dm["IDNO"].str[17].to_numpy()).all()
    assert (dm["IDNO"].str[6:14] == dm["BRTHDAT"].str.replace("-", "")).all()
    assert ((dm["IDNO"].str[16].astype(int) % 2 == 1) == (dm["SEX"] == "男")).all()
    first = inf[inf["INFYN"] == "是"].groupby("SUBJID")["INFDAT"].min().reindex(enrol["SUBJID"])
    assert (
        (enrol["ICDAT"] <= enrol["SCRDAT"])
        & (enrol["SCRDAT"] < enrol["ENRLDAT"])
        & (enrol["ENRLDAT"] < first.to_numpy())
    ).all()
    given = inf[inf["INFYN"] == "是"].head(200)
    want = [
        str((Decimal(d) * Decimal(w)).quantize(Decimal("0.1"), ROUND_HALF_UP))
        for d, w in zip(given["DOSE"], given["WEIGHT"], strict=True)
    ]
    assert given["TOTCELL"].tolist() == want
    missed = inf[inf["INFYN"] == "否"]
    assert (missed[["INFDAT", "INFSTTIM", "WEIGHT", "TOTCELL", "LOTNO"]] == "").all().all()
    keyed = vis.set_index(["SUBJID", "VISIT"])["VISDAT"]
    assert keyed.index.is_unique
    for form, col in (("LAB", "LBDAT"), ("PASI", "PASIDAT"), ("PGA", "PGADAT")):
        got = trial[form].set_index(["SUBJID", "VISIT"])[col]
        assert (keyed.reindex(got.index) == got).all(), form
    assert not trial["LAB"].duplicated(["SUBJID", "VISIT", "LBCODE"]).any()
    eos = trial["EOS"]
    out = set(eos.loc[eos["COMPLYN"] == "否", "SUBJID"])
    assert out and not (vis["SUBJID"].isin(out) & (vis["VISIT"] == "治疗后6个月")).any()
    assert (
        eos["EOSDAT"] == vis.groupby("SUBJID")["VISDAT"].max().reindex(eos["SUBJID"]).to_numpy()
    ).all()


def test_pasi_and_pga_are_consistent(trial):
    pasi, pga = trial["PASI"], trial["PGA"]
    w = pasi["REGION"].map({"头颈部": 1, "上肢": 2, "躯干": 3, "下肢": 4})
    signs = pasi[["ERYTH", "INDUR", "DESQ"]].astype(int)
    assert signs.max().max() <= 4 and pasi["AREA"].astype(int).max() <= 6
    t10 = (
        (signs.sum(axis=1) * pasi["AREA"].astype(int) * w)
        .groupby([pasi["SUBJID"], pasi["VISIT"]])
        .sum()
    )
    score = pga.set_index(["SUBJID", "VISIT"])["PGA"].astype(int).reindex(t10.index)
    expect = np.select([t10 >= 200, t10 >= 100, t10 >= 30, t10 > 0], [4, 3, 2, 1], 0)
    assert (score.to_numpy() == expect).all()
    base = t10.xs("第1次输注", level="VISIT")
    assert (base > 100).all()


def test_fixed_rounds_half_up_like_a_lab_printer():
    got = synth.fixed(np.array([0.125, 2.5, 1.005, 7.0, 0.0]), np.array([2, 0, 2, 1, 0]))
    assert got.tolist() == ["0.13", "3", "1.01", "7.0", "0"]


def test_dense_labs_give_about_500_lab_rows_per_subject():
    lab = synth.build(200, seed=1, dense_labs=True)["LAB"]
    per_subject = len(lab) / 200
    assert 470 <= per_subject <= 530
    assert lab["LBCODE"].nunique() == len(synth.LAB_TESTS_DENSE)


def test_bundled_spec_maps_a_synthetic_trial_unchanged(tmp_path):
    from cdisc_umsc.run import run

    raw = tmp_path / "raw"
    rows = synth.write_trial(raw, 30, seed=2, dense_labs=True)
    result = run(SPEC, raw, tmp_path / "out")
    acc = {f["form"]: f for f in result.manifest["raw_forms"]}
    assert {f: acc[f]["read"] for f in FORMS} == rows
    assert all(f["read"] == f["mapped"] + f["excluded"] for f in acc.values())
    assert len(result.sdtm.data["DM"]) == 30 and len(result.adam["ADSL"]) == 30
    assert len(result.sdtm.data["LB"]) == rows["LAB"]
    assert result.sdtm.data["LB"]["LBTESTCD"].nunique() == len(synth.LAB_TESTS_DENSE)
    assert len(result.sdtm.data["AE"]) == rows["AE"]
    # the generator's output-folder record is no form: listed as ignored with the spec's reason
    assert result.manifest["ignored_files"] == [
        {
            "file": "manifest.json",
            "reason": "the synthetic generator's record of its own output folder, not study data",
        }
    ]


def test_script_writes_a_trial_and_rejects_a_bad_count(tmp_path, capsys):
    assert synth.main(["--subjects", "12", "--seed", "9", "--out", str(tmp_path / "t")]) == 0
    assert "DM.csv" in capsys.readouterr().out and len(_read(tmp_path / "t" / "DM.csv")) == 12
    assert synth.main(["--subjects", "0", "--out", str(tmp_path / "u")]) == 2
    assert not (tmp_path / "u").exists()


def test_script_replaces_only_its_own_output(tmp_path, capsys):
    foreign = tmp_path / "raw"
    foreign.mkdir()
    (foreign / "DM.csv").write_text("someone's export\n")
    assert synth.main(["--subjects", "3", "--out", str(foreign)]) == 2
    assert capsys.readouterr().err == (
        f"error: --out {foreign}: holds files that are not a previous output of cdisc-umsc "
        "(no cdisc-umsc manifest.json); they are left untouched (use --force to replace the "
        "folder)\n"
    )
    assert (foreign / "DM.csv").read_text() == "someone's export\n"
    mine = tmp_path / "mine"
    assert synth.main(["--subjects", "4", "--out", str(mine)]) == 0
    assert synth.main(["--subjects", "3", "--out", str(mine)]) == 0
    assert len((mine / "DM.csv").read_text().splitlines()) == 1 + 3
    assert synth.main(["--subjects", "3", "--out", str(foreign), "--force"]) == 0
    assert len((foreign / "DM.csv").read_text().splitlines()) == 1 + 3


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)
