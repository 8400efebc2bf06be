"""The published figures, recomputed from the written XPT files by an independent reader.

Nothing here imports the code that derived the flags: PASI totals are recomputed from the 16
SDTM item scores with the Feldman & Krueger weights, percent improvement from the baseline
flag, and the immunology directions from the LB results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat

WEIGHTS = {0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4}  # head/neck, upper limbs, trunk, lower limbs


def _read(out, name):
    df, _meta = pyreadstat.read_xport(str(out / name))
    return df


def _pasi_totals(qs: pd.DataFrame) -> pd.DataFrame:
    items = qs[qs["QSTESTCD"].str.match(r"^PASI02(0[1-9]|1[0-6])$")].copy()
    items["n"] = items["QSTESTCD"].str[-2:].astype(int) - 1
    items["region"], items["sign"] = items["n"] // 4, items["n"] % 4
    wide = items.pivot_table(
        index=["USUBJID", "VISITNUM", "region"], columns="sign", values="QSSTRESN"
    ).reset_index()
    wide["score"] = (wide[0] + wide[1] + wide[2]) * wide[3] * wide["region"].map(WEIGHTS)
    total = wide.groupby(["USUBJID", "VISITNUM"])["score"].sum().round(1).rename("pasi")
    return total.reset_index()


def _responders(out):
    qs, dm = _read(out, "sdtm/qs.xpt"), _read(out, "sdtm/dm.xpt")
    totals = _pasi_totals(qs)
    base_rows = qs[(qs["QSTESTCD"] == "PASI0229") & (qs["QSLOBXFL"] == "Y")]
    base = totals.merge(base_rows[["USUBJID", "VISITNUM"]], on=["USUBJID", "VISITNUM"])
    last = totals[totals["VISITNUM"] == 11]
    both = dm[["USUBJID", "SEX"]].merge(base[["USUBJID", "pasi"]], on="USUBJID", how="left")
    both = both.merge(last[["USUBJID", "pasi"]], on="USUBJID", how="left", suffixes=("_b", "_v"))
    # improvement >= 40 %, compared unrounded in tenths of a point (PASI is a multiple of 0.1)
    b, v = (both["pasi_b"] * 10).round(), (both["pasi_v"] * 10).round()
    both["pasi40"] = ((b - v) * 100 >= 40 * b) & v.notna()
    pga = qs[(qs["QSTESTCD"] == "SPGA01") & (qs["VISITNUM"] == 11)]
    both["pga01"] = both["USUBJID"].isin(pga.loc[pga["QSSTRESN"] <= 1, "USUBJID"])
    return both


def test_pasi_total_equals_derived_record(bundled_run):
    _result, out = bundled_run
    qs = _read(out, "sdtm/qs.xpt")
    mine = _pasi_totals(qs)
    theirs = qs[qs["QSTESTCD"] == "PASI0229"][["USUBJID", "VISITNUM", "QSSTRESN", "QSDRVFL"]]
    merged = mine.merge(theirs, on=["USUBJID", "VISITNUM"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert np.allclose(merged["pasi"], merged["QSSTRESN"])
    assert (merged["QSDRVFL"] == "Y").all()


def test_published_efficacy_figures_from_sdtm(bundled_run):
    _result, out = bundled_run
    r = _responders(out)
    assert len(r) == 17
    assert int(r["pasi40"].sum()) == 8
    assert int(r.loc[r["SEX"] == "M", "pasi40"].sum()) == 2 and (r["SEX"] == "M").sum() == 8
    assert int(r.loc[r["SEX"] == "F", "pasi40"].sum()) == 6 and (r["SEX"] == "F").sum() == 9
    assert int(r["pga01"].sum()) == 3


def test_boundary_subject_is_a_responder(bundled_run):
    _result, out = bundled_run
    r = _responders(out)
    edge = r[(r["pasi_b"] == 11.5) & (r["pasi_v"] == 6.9)]
    assert len(edge) == 1 and bool(edge["pasi40"].iloc[0])


def test_adam_flags_agree_with_independent_recomputation(bundled_run):
    _result, out = bundled_run
    adqs = _read(out, "adam/adqs.xpt")
    anl = adqs[(adqs["ANL01FL"] == "Y") & (adqs["FASFL"] == "Y")]
    assert anl.groupby("PARAMCD").size().to_dict() == {"PASITOT": 17, "PGA": 17}
    pasi = anl[anl["PARAMCD"] == "PASITOT"].set_index("USUBJID")
    r = _responders(out).set_index("USUBJID")
    assert ((pasi["CRIT1FL"] == "Y") == r.loc[pasi.index, "pasi40"]).all()
    assert (pasi["CRIT1"] == "PASI40: >= 40% improvement from baseline").all()
    pga = anl[anl["PARAMCD"] == "PGA"]
    assert (pga["CRIT1FL"] == "Y").sum() == 3 and (pga["CRIT1"] == "PGA 0/1").all()
    # PCHG consistent with AVAL and BASE on every post-baseline record
    post = adqs[adqs["PCHG"].notna()]
    assert np.allclose(post["PCHG"], 100 * (post["AVAL"] - post["BASE"]) / post["BASE"])
    assert np.allclose(post["CHG"], post["AVAL"] - post["BASE"])
    # the withdrawn subject's primary record is imputed, baseline carried forward
    imputed = anl[anl["DTYPE"] == "BLOCF"]
    assert len(imputed) == 2 and (imputed["AVAL"] == imputed["BASE"]).all()
    assert (imputed["CRIT1FL"] == "N").all()


def test_immunology_directions(bundled_run):
    _result, out = bundled_run
    lb = _read(out, "sdtm/lb.xpt")
    r = _responders(out).set_index("USUBJID")
    tests = {
        "TLHRTLH": "treg",
        "TH17TH": "th17",
        "TLHNTH": "naive",
        "TLHMTH": "memory",
        "INTLK17": "il17",
    }
    imm = lb[lb["LBTESTCD"].isin(list(tests))]
    base = imm[imm["LBLOBXFL"] == "Y"].set_index(["USUBJID", "LBTESTCD"])["LBSTRESN"]
    last = imm.sort_values("VISITNUM").groupby(["USUBJID", "LBTESTCD"])["LBSTRESN"].last()
    change = (last - base).unstack()
    resp = change.index.isin(r.index[r["pasi40"]])
    med = change.median()
    assert med["TLHRTLH"] > 0 and med["TLHMTH"] > 0  # cohort: Treg and CD4 memory up
    assert med["TH17TH"] < 0 and med["TLHNTH"] < 0  # cohort: Th17 and CD4 naive down
    rmed = change[resp].median()
    assert rmed["TLHRTLH"] > 0 and rmed["TLHMTH"] > 0
    assert rmed["TH17TH"] < 0 and rmed["INTLK17"] < 0
    base_treg = base.unstack()["TLHRTLH"]
    assert base_treg[resp].median() < base_treg[~resp].median()
