"""The bundled SYNTHETIC raw export (fixtures/umsc/raw) and the coding table made with it.

Facts are recomputed here from the CSV files, independently of the generator's own checker.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "fixtures" / "umsc" / "make_raw.py"
RAW = REPO / "fixtures" / "umsc" / "raw"
CODING = REPO / "mappings" / "umsc" / "coding" / "ae_dictionary.csv"

HEADERS = {
    "DM": "SITEID,SUBJID,PATNAME,IDNO,TELNO,BRTHDAT,SEX,NATION,HEIGHT,WEIGHT,DMDAT",
    "ENROL": "SUBJID,ICDAT,SCRDAT,ELIGYN,ENRLDAT",
    "DOSEGRP": "SUBJID,STAGE,GRPNO,DOSELVL,ASSGNDAT",
    "INFUSION": "SUBJID,INFNO,INFDAT,INFSTTIM,INFENTIM,WEIGHT,DOSE,TOTCELL,LOTNO,INFYN",
    "VISIT": "SUBJID,VISIT,VISDAT",
    "AE": "SUBJID,AESPID,AETERM,AESTDAT,AEENDAT,AEONGO,AESEV,AESER,AESDTH,AESHOSP,AESLIFE,"
    "AESDISAB,AESCONG,AESMIE,AEREL,AEACN,AEOUT",
    "LAB": "SUBJID,VISIT,LBDAT,LBCAT,LBCODE,LBNAME,LBRES,LBUNIT,LBLOW,LBHIGH,LBNDRSN",
    "PASI": "SUBJID,VISIT,PASIDAT,REGION,ERYTH,INDUR,DESQ,AREA",
    "PGA": "SUBJID,VISIT,PGADAT,PGA",
    "EOS": "SUBJID,COMPLYN,EOSDAT,DCREAS",
}
SCREEN, BASE, PRIMARY, M3 = "筛选期", "第1次输注", "治疗后6个月", "治疗后3个月"
INF = ["第1次输注", "第2次输注", "第3次输注", "第4次输注"]
FOLLOW = {
    "治疗后15天": 15,
    "治疗后30天": 30,
    "治疗后45天": 45,
    "治疗后2个月": 60,
    "治疗后3个月": 90,
    "治疗后6个月": 180,
}
WEIGHT10 = {"头颈部": 1, "上肢": 2, "躯干": 3, "下肢": 4}
GROUP = {
    ("1", ""): ("1.5", 14, 4),
    ("2", "1"): ("1.5", 15, 4),
    ("2", "2"): ("2.0", 15, 4),
    ("2", "3"): ("2.5", 30, 2),
    ("2", "4"): ("3.0", 30, 2),
}
TESTS = {  # code: (category, name, unit)
    "WBC": ("血常规", "白细胞计数", "10^9/L"),
    "NEUT": ("血常规", "中性粒细胞计数", "10^9/L"),
    "LYM": ("血常规", "淋巴细胞计数", "10^9/L"),
    "HGB": ("血常规", "血红蛋白", "g/L"),
    "PLT": ("血常规", "血小板计数", "10^9/L"),
    "ALT": ("血生化", "丙氨酸氨基转移酶", "U/L"),
    "AST": ("血生化", "天门冬氨酸氨基转移酶", "U/L"),
    "TBIL": ("血生化", "总胆红素", "μmol/L"),
    "CREA": ("血生化", "肌酐", "μmol/L"),
    "UREA": ("血生化", "尿素", "mmol/L"),
    "GLU": ("血生化", "葡萄糖", "mmol/L"),
    "IL17": ("免疫学", "白介素17", "pg/mL"),
    "TREG": ("免疫学", "调节性T细胞", "%"),
    "TH17": ("免疫学", "辅助性T细胞17", "%"),
    "CD4N": ("免疫学", "CD4幼稚T细胞", "%"),
    "CD4M": ("免疫学", "CD4记忆T细胞", "%"),
}
EDC_DATE = re.compile(r"^(\d{2}|UK)/(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|UNK)/\d{4}$")


def read(form: str, folder: Path = RAW) -> pd.DataFrame:
    return pd.read_csv(folder / f"{form}.csv", dtype=str, keep_default_na=False)


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("regen")
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--out",
            str(out / "raw"),
            "--coding",
            str(out / "ae_dictionary.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return out / "raw", out / "ae_dictionary.csv", proc.stdout


@pytest.fixture(scope="module")
def pasi_totals() -> pd.DataFrame:
    """PASI x 10 per subject and assessment."""
    p = read("PASI")
    signs = p[["ERYTH", "INDUR", "DESQ"]].astype(int).sum(axis=1)
    p["t10"] = signs * p["AREA"].astype(int) * p["REGION"].map(WEIGHT10)
    return p.groupby(["SUBJID", "VISIT", "PASIDAT"], as_index=False)["t10"].sum()


@pytest.fixture(scope="module")
def efficacy(pasi_totals: pd.DataFrame) -> pd.DataFrame:
    """Per subject: baseline, primary (baseline carried if missing), improvement, responder."""
    inf = read("INFUSION")
    first = inf[inf["INFYN"] == "是"].groupby("SUBJID")["INFDAT"].min()
    t = pasi_totals
    pre = t[t["PASIDAT"] <= t["SUBJID"].map(first)].sort_values(["SUBJID", "PASIDAT"])
    base = pre.groupby("SUBJID")["t10"].last()
    prim = t[t["VISIT"] == PRIMARY].set_index("SUBJID")["t10"].reindex(base.index)
    out = pd.DataFrame({"base": base, "prim": prim.fillna(base).astype(int)})
    pairs = zip(out["base"], out["prim"], strict=True)
    out["imp"] = [Fraction(int(b - v) * 100, int(b)) for b, v in pairs]
    out["resp"] = out["imp"] >= 40
    pga = read("PGA")
    out["pga"] = pga[pga["VISIT"] == PRIMARY].set_index("SUBJID")["PGA"].astype(int)
    out["sex"] = read("DM").set_index("SUBJID")["SEX"]
    return out


# ------------------------------------------------------------------ reproducibility and format
def test_regeneration_is_byte_identical(regenerated: tuple[Path, Path, str]) -> None:
    raw, coding, _ = regenerated
    assert sorted(p.name for p in raw.glob("*.csv")) == sorted(f"{f}.csv" for f in HEADERS)
    for form in HEADERS:
        assert (raw / f"{form}.csv").read_bytes() == (RAW / f"{form}.csv").read_bytes(), form
    assert coding.read_bytes() == CODING.read_bytes()


def test_script_prints_published_figures(regenerated: tuple[Path, Path, str]) -> None:
    out = regenerated[2]
    for figure in (
        "PASI40 8/17 (47.1 %)",
        "PGA 0/1 3/17 (17.6 %)",
        "male 2/8 (25.0 %)",
        "female 6/9 (66.7 %)",
    ):
        assert figure in out
    assert all(f"{c} median" in out for c in ("TREG", "CD4M", "TH17", "CD4N", "IL17"))


def test_verify_only_rejects_a_broken_fact(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    pga = (raw / "PGA.csv").read_text(encoding="utf-8").splitlines()
    # Make one more subject "clear" at the primary visit: PGA 0/1 becomes 4/17.
    idx = next(i for i, line in enumerate(pga) if f",{PRIMARY}," in line and line.endswith(",2"))
    pga[idx] = pga[idx][:-1] + "1"
    (raw / "PGA.csv").write_text("\n".join(pga) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--verify-only", "--out", str(raw), "--coding", str(CODING)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "PGA.csv" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("form", sorted(HEADERS))
def test_csv_encoding_and_header(form: str) -> None:
    data = (RAW / f"{form}.csv").read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data and data.endswith(b"\n")
    assert data.decode("utf-8").split("\n", 1)[0] == HEADERS[form]


# ------------------------------------------------------------------ published facts
def test_pasi40_and_pga_figures(efficacy: pd.DataFrame) -> None:
    e = efficacy
    assert len(e) == 17 and e["resp"].sum() == 8
    assert (e["sex"] == "男").sum() == 8 and (e["sex"] == "女").sum() == 9
    assert e.loc[e["sex"] == "男", "resp"].sum() == 2
    assert e.loc[e["sex"] == "女", "resp"].sum() == 6
    pga01 = e["pga"] <= 1  # missing primary PGA (NaN) compares False: not PGA 0/1
    assert pga01.sum() == 3 and e.loc[pga01, "resp"].all()
    assert round(8 / 17 * 100, 1) == 47.1 and round(3 / 17 * 100, 1) == 17.6


def test_entry_criteria(efficacy: pd.DataFrame, pasi_totals: pd.DataFrame) -> None:
    assert (efficacy["base"] > 100).all()
    scr = pasi_totals[pasi_totals["VISIT"] == SCREEN]
    assert len(scr) == 17 and (scr["t10"] > 100).all()
    pga = read("PGA")
    assert (pga.loc[pga["VISIT"] == BASE, "PGA"].astype(int) >= 3).sum() == 17


def test_boundary_and_near_miss(efficacy: pd.DataFrame) -> None:
    boundary = efficacy[(efficacy["base"] == 115) & (efficacy["prim"] == 69)]
    assert len(boundary) == 1 and boundary["resp"].all()
    assert boundary["imp"].iloc[0] == 40
    near = efficacy[[39 <= v < 40 for v in efficacy["imp"]]]
    assert len(near) == 1 and not near["resp"].any()


def test_withdrawn_subject(efficacy: pd.DataFrame, pasi_totals: pd.DataFrame) -> None:
    eos = read("EOS")
    wd = eos[eos["COMPLYN"] == "否"]
    assert len(wd) == 1 and wd["DCREAS"].iloc[0] == "失访"
    s = wd["SUBJID"].iloc[0]
    assert (eos.loc[eos["COMPLYN"] == "是", "DCREAS"] == "").all()
    for form in ("PASI", "PGA", "LAB", "VISIT"):
        t = read(form)
        assert not ((t["SUBJID"] == s) & (t["VISIT"] == PRIMARY)).any(), form
    vis = read("VISIT")
    m3_date = vis.loc[(vis["SUBJID"] == s) & (vis["VISIT"] == M3), "VISDAT"].item()
    assert wd["EOSDAT"].item() == m3_date
    assert not efficacy.loc[s, "resp"]
    m3 = pasi_totals[(pasi_totals["SUBJID"] == s) & (pasi_totals["VISIT"] == M3)]["t10"].iloc[0]
    assert Fraction(int(efficacy.loc[s, "base"] - m3) * 100, int(efficacy.loc[s, "base"])) < 40


def test_trajectories_plausible(efficacy: pd.DataFrame, pasi_totals: pd.DataFrame) -> None:
    t = pasi_totals.sort_values(["SUBJID", "PASIDAT"])
    pga = read("PGA").set_index(["SUBJID", "VISIT"])["PGA"].astype(int)
    for s, g in t.groupby("SUBJID"):
        post = g[g["VISIT"].isin([*INF[1:], *FOLLOW])]
        assert (post["t10"] < efficacy.loc[s, "base"]).all(), s  # below baseline after dosing
        if efficacy.loc[s, "resp"]:
            fu = g[g["VISIT"].isin(FOLLOW)]["t10"]
            assert fu.iloc[-1] <= fu.iloc[0], s
    # PGA moves with PASI: rank correlation across all assessments is strongly positive.
    merged = t.set_index(["SUBJID", "VISIT"])["t10"].to_frame().join(pga)
    assert merged["t10"].rank().corr(merged["PGA"].rank()) > 0.8


def test_immunology_directions(efficacy: pd.DataFrame) -> None:
    lab = read("LAB")
    imm = lab[lab["LBCAT"] == "免疫学"].copy()
    imm["v"] = imm["LBRES"].astype(float)
    base = imm[imm["VISIT"] == BASE].pivot(index="SUBJID", columns="LBCODE", values="v")
    last = imm.sort_values("LBDAT").groupby(["SUBJID", "LBCODE"])["v"].last().unstack()
    delta = (last - base).loc[efficacy.index]
    resp = efficacy["resp"].to_numpy()
    for code, sign in (("TREG", 1), ("CD4M", 1), ("TH17", -1), ("CD4N", -1)):
        assert sign * last[code].median() > sign * base[code].median(), code
        assert (sign * delta[code] > 0).sum() >= 13, code  # most individuals
    for code, sign in (("TREG", 1), ("CD4M", 1), ("TH17", -1), ("IL17", -1)):
        assert (sign * delta.loc[resp, code] > 0).all(), code
        assert sign * last.loc[resp, code].median() > sign * base.loc[resp, code].median()
    tb = base.loc[efficacy.index, "TREG"]
    assert tb[resp].max() < tb[~resp].min()


# ------------------------------------------------------------------ forms
def test_idno_check_characters_and_identifiers() -> None:
    dm = read("DM")
    weights = [pow(2, 17 - i, 11) for i in range(17)]  # ISO 7064 MOD 11-2 weights 2^(n-1) mod 11
    for idno, birth, sex in zip(dm["IDNO"], dm["BRTHDAT"], dm["SEX"], strict=True):
        assert re.fullmatch(r"43\d{15}[\dX]", idno)
        check = (12 - sum(int(c) * w for c, w in zip(idno[:17], weights, strict=True)) % 11) % 11
        assert idno[17] == ("X" if check == 10 else str(check))
        assert idno[6:14] == birth.replace("-", "")
        assert int(idno[16]) % 2 == (1 if sex == "男" else 0)
    assert dm["TELNO"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert dm["PATNAME"].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all() and dm["PATNAME"].is_unique
    assert dm["SUBJID"].tolist() == [f"{i:03d}" for i in range(1, 18)]
    assert (dm["SITEID"] == "01").all() and set(dm["SEX"]) == {"男", "女"}
    assert set(dm["NATION"]) <= {"汉族", "土家族", "苗族", "回族"}
    assert (dm["NATION"] == "汉族").sum() > 17 / 2
    bmi = dm["WEIGHT"].astype(float) / (dm["HEIGHT"].astype(float) / 100) ** 2
    assert bmi.between(18.5, 35).all()
    enrol = read("ENROL")
    for birth, consent in zip(dm["BRTHDAT"], enrol["ICDAT"], strict=True):
        b, c = d(birth), d(consent)
        assert 18 <= c.year - b.year - ((c.month, c.day) < (b.month, b.day)) <= 65
    assert (dm["DMDAT"] == enrol["SCRDAT"]).all()


def test_enrolment_dose_groups_and_infusions() -> None:
    enrol, grp, inf = read("ENROL"), read("DOSEGRP"), read("INFUSION")
    assert (enrol["ELIGYN"] == "是").all()
    assert (enrol["ICDAT"] <= enrol["SCRDAT"]).all()
    first = inf[inf["INFYN"] == "是"].groupby("SUBJID")["INFDAT"].min()
    assert "2019-01-01" <= first.min() and first.max() <= "2019-12-31"
    assert ((enrol["SCRDAT"] <= enrol["ENRLDAT"]) & (enrol["ENRLDAT"] <= first.to_numpy())).all()
    gap = [(d(f) - d(s)).days for f, s in zip(first, enrol["SCRDAT"], strict=True)]
    assert all(3 <= g <= 14 for g in gap)
    keys = list(zip(grp["STAGE"], grp["GRPNO"], strict=True))
    assert [keys.count(k) for k in GROUP] == [3, 4, 4, 3, 3]
    for s, k in zip(grp["SUBJID"], keys, strict=True):
        dose, interval, n = GROUP[k]
        rows = inf[inf["SUBJID"] == s]
        assert rows["INFNO"].tolist() == [str(i) for i in range(1, n + 1)]
        assert (rows["DOSE"] == dose).all()
        assert grp.loc[grp["SUBJID"] == s, "DOSELVL"].item() == dose
        given = rows[rows["INFYN"] == "是"]["INFDAT"].map(d).tolist()
        assert all((b - a).days == interval for a, b in zip(given[:-1], given[1:], strict=True)), s
    missed = inf[inf["INFYN"] == "否"]
    assert len(missed) == 1 and missed["INFNO"].item() == "4" and missed["INFDAT"].item() == ""
    assert grp.loc[grp["SUBJID"] == missed["SUBJID"].item(), "GRPNO"].item() in {"1", "2"}
    given = inf[inf["INFYN"] == "是"]
    total = (given["DOSE"].astype(float) * given["WEIGHT"].astype(float) * 10 + 0.5 + 1e-9) // 1
    assert (total / 10).map(lambda x: f"{x:.1f}").tolist() == given["TOTCELL"].tolist()
    assert given["LOTNO"].str.fullmatch(r"UC20\d{2}-\d{4}-\d{2}").all()
    assert (given["INFSTTIM"] < given["INFENTIM"]).all()
    assert given["INFSTTIM"].str.fullmatch(r"\d{2}:\d{2}").all()


def test_missed_infusion_subject_is_non_responder(efficacy: pd.DataFrame) -> None:
    inf = read("INFUSION")
    s = inf.loc[inf["INFYN"] == "否", "SUBJID"].item()
    assert not efficacy.loc[s, "resp"]


def test_visit_schedule_and_collection_dates() -> None:
    vis, inf = read("VISIT"), read("INFUSION")
    assert not vis.duplicated(["SUBJID", "VISIT"]).any()
    assert set(vis["VISIT"]) == {SCREEN, *INF, *FOLLOW}
    given = inf[inf["INFYN"] == "是"]
    key = vis.set_index(["SUBJID", "VISIT"])["VISDAT"]
    for s, rows in given.groupby("SUBJID"):
        for no, day in zip(rows["INFNO"], rows["INFDAT"], strict=True):
            assert key[(s, INF[int(no) - 1])] == day
        last = d(rows["INFDAT"].max())
        for name, offset in FOLLOW.items():
            if (s, name) in key.index:
                assert abs((d(key[(s, name)]) - last).days - offset) <= 3, (s, name)
        attended = vis.loc[vis["SUBJID"] == s, "VISDAT"]
        assert attended.is_monotonic_increasing and attended.is_unique
    for form, col in (("LAB", "LBDAT"), ("PASI", "PASIDAT"), ("PGA", "PGADAT")):
        t = read(form)
        got = t.set_index(["SUBJID", "VISIT"])[col]
        assert got.index.isin(key.index).all(), form
        assert (key.reindex(got.index) == got).all(), form
    pasi_visits = read("PASI")[["SUBJID", "VISIT"]].drop_duplicates()
    pga_visits = read("PGA")[["SUBJID", "VISIT"]]
    assert pasi_visits.reset_index(drop=True).equals(pga_visits)
    assert pasi_visits.reset_index(drop=True).equals(vis[["SUBJID", "VISIT"]])
    eos = read("EOS")
    assert (eos["EOSDAT"] == vis.groupby("SUBJID")["VISDAT"].max().to_numpy()).all()


def test_pasi_and_pga_ranges() -> None:
    p = read("PASI")
    regions = p.groupby(["SUBJID", "VISIT"])["REGION"].apply(tuple)
    assert (regions == tuple(WEIGHT10)).all()
    signs = p[["ERYTH", "INDUR", "DESQ"]].astype(int)
    area = p["AREA"].astype(int)
    assert signs.isin(range(5)).all().all() and area.between(0, 6).all()
    assert ((signs.sum(axis=1) == 0) == (area == 0)).all()
    assert read("PGA")["PGA"].isin(["0", "1", "2", "3", "4"]).all()


def test_lab_schedule_units_and_values() -> None:
    lab = read("LAB")
    got = lab.apply(lambda r: (r["LBCAT"], r["LBNAME"], r["LBUNIT"]), axis=1)
    assert (got == lab["LBCODE"].map(TESTS)).all()
    safety = {SCREEN, *INF, "治疗后15天", "治疗后30天", M3, PRIMARY}
    immuno = {BASE, "治疗后30天", M3, PRIMARY}
    per_visit = lab.groupby(["SUBJID", "VISIT"])["LBCODE"].apply(frozenset)
    codes = (
        {c for c, v in TESTS.items() if v[0] != "免疫学"},
        {c for c, v in TESTS.items() if v[0] == "免疫学"},
    )
    vis = read("VISIT")
    for s, v in zip(vis["SUBJID"], vis["VISIT"], strict=True):
        want = (codes[0] if v in safety else set()) | (codes[1] if v in immuno else set())
        assert set(per_visit.get((s, v), frozenset())) == want, (s, v)
    nd = lab[lab["LBRES"] == ""]
    assert len(nd) == 1 and nd["LBNDRSN"].item() == "标本溶血"
    assert (lab.loc[lab["LBRES"] != "", "LBNDRSN"] == "").all()
    done = lab[lab["LBRES"] != ""]
    assert done["LBRES"].str.fullmatch(r"\d+(\.\d{1,2})?").all()
    v, lo, hi = (done[c].astype(float) for c in ("LBRES", "LBLOW", "LBHIGH"))
    safety_rows = done["LBCAT"] != "免疫学"
    out = safety_rows & ((v < lo) | (v > hi))
    assert 1 <= out.sum() <= 10  # a few abnormal safety results, mostly normal
    scr = done[done["VISIT"] == SCREEN].set_index(["SUBJID", "LBCODE"])
    val, uln = scr["LBRES"].astype(float), scr["LBHIGH"].astype(float)
    code = scr.index.get_level_values("LBCODE")
    assert (val[code == "WBC"] >= 3.0).all() and (val[code == "PLT"] >= 100).all()
    assert (val[code == "HGB"] >= 100).all()
    for c, k in (("CREA", 1.5), ("TBIL", 1.5), ("AST", 2.5), ("ALT", 2.5)):
        assert (val[code == c] <= k * uln[code == c]).all(), c
    cbc = (
        done[done["LBCODE"].isin(["WBC", "NEUT", "LYM"])]
        .pivot(index=["SUBJID", "VISIT"], columns="LBCODE", values="LBRES")
        .astype(float)
    )
    assert (cbc["WBC"] > cbc["NEUT"] + cbc["LYM"]).all()


def test_adverse_events() -> None:
    ae, dm = read("AE"), read("DM")
    assert 12 <= len(ae) <= 18 and ae["SUBJID"].isin(dm["SUBJID"]).all()
    assert 8 <= ae["SUBJID"].nunique() <= 11
    spid = ae.groupby("SUBJID")["AESPID"].apply(list)
    assert all(v == [str(i) for i in range(1, len(v) + 1)] for v in spid)
    assert (ae["AESER"] == "否").all()
    crit = ["AESDTH", "AESHOSP", "AESLIFE", "AESDISAB", "AESCONG", "AESMIE"]
    assert (ae[crit] == "").all().all()
    assert ae["AESEV"].isin(["轻度", "中度"]).all() and (ae["AESEV"] == "轻度").sum() > len(ae) / 2
    assert ae["AEREL"].isin(["肯定有关", "很可能有关", "可能有关", "可能无关", "肯定无关"]).all()
    assert ae["AEACN"].isin(["剂量不变", "不适用"]).all()
    assert ae["AEOUT"].isin(["痊愈", "好转", "未愈", "痊愈有后遗症", "未知"]).all()
    dates = pd.concat([ae["AESTDAT"], ae.loc[ae["AEENDAT"] != "", "AEENDAT"]])
    assert dates.str.fullmatch(EDC_DATE).all()
    assert dates.str.contains("UK", regex=False).sum() == 3
    ongoing = ae[ae["AEONGO"] == "是"]
    assert len(ongoing) == 1 and ongoing["AEENDAT"].item() == ""
    assert (ae.loc[ae["AEONGO"] == "否", "AEENDAT"] != "").all()
    assert (ae["AETERM"].str.len() > 200).sum() == 1
    assert ae["AETERM"].str.strip().str.upper().nunique() < ae["AETERM"].nunique()  # variation


def test_coding_table() -> None:
    lines = CODING.read_text(encoding="utf-8").split("\n")
    assert lines[0].startswith("#") and "SYNTHETIC" in lines[0] and "MedDRA" in lines[0]
    code = pd.read_csv(CODING, dtype=str, keep_default_na=False, skiprows=1)
    assert list(code.columns) == [
        "VERBATIM",
        "LLT",
        "LLTCD",
        "PT",
        "PTCD",
        "HLT",
        "HLTCD",
        "HLGT",
        "HLGTCD",
        "SOC",
        "SOCCD",
    ]
    verbatims = set(read("AE")["AETERM"].str.strip().str.upper())
    assert set(code["VERBATIM"]) == verbatims and code["VERBATIM"].is_unique
    for level in ("LLT", "PT", "HLT", "HLGT", "SOC"):
        assert code[f"{level}CD"].str.fullmatch(r"9\d{7}").all()
        assert (code.groupby(level)[f"{level}CD"].nunique() == 1).all(), level
        assert (code.groupby(f"{level}CD")[level].nunique() == 1).all(), level
    assert "General disorders and administration site conditions" in set(code["SOC"])
    assert {"Pyrexia", "Headache", "Upper respiratory tract infection"} <= set(code["PT"])
