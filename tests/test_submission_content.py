"""Submission content a reviewer checks, read back from the written XPT files by an independent
reader (pyreadstat and the raw CSV forms; nothing here imports the code that built them).

On-treatment flags against the first dose date-time; the collected heights, weights, doses and
milestones in VS, EX/EC and DS; the ADSL variables in ADaMIG 1.3 order; the Trial Summary
parameters the FDA Study Data Technical Conformance Guide lists, with their codes.
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from tests.conftest import RAW, ROOT, SHARED


def _read(out, name: str) -> pd.DataFrame:
    df, _meta = pyreadstat.read_xport(str(out / name))
    return df


def _raw(name: str) -> pd.DataFrame:
    return pd.read_csv(RAW / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def outs(bundled_run, tmp_path_factory):
    """Output folders of the default spec and of the SDTMIG 3.4 placement spec."""
    from cdisc_umsc.run import run

    ig34 = tmp_path_factory.mktemp("ig34") / "out"
    run(ROOT / "mappings" / "umsc-ig34", RAW, ig34)
    return {"umsc": bundled_run[1], "umsc-ig34": ig34}


def _first_dose(out) -> pd.DataFrame:
    """Per subject: the first and last infusion, from SDTM EX (ISO 8601 text)."""
    ex = _read(out, "sdtm/ex.xpt")
    start = pd.to_datetime(ex["EXSTDTC"], format="ISO8601")
    per = ex.assign(_s=start).groupby("USUBJID")["_s"].agg(["min", "max"])
    return per.rename(columns={"min": "first", "max": "last"}).reset_index()


@pytest.mark.parametrize(
    ("spec", "dataset"), [("umsc", "adlb"), ("umsc-ig34", "adlb"), ("umsc-ig34", "adcp")]
)
def test_no_on_treatment_flag_before_the_first_dose(outs, spec, dataset):
    out = outs[spec]
    bds = _read(out, f"adam/{dataset}.xpt").merge(_first_dose(out), on="USUBJID")
    adt = pd.to_datetime(bds["ADT"])  # DATE9.: read back as dates
    assert "ADTM" not in bds  # the results have dates only
    flagged = bds["ONTRTFL"] == "Y"
    # a result with a date only is not shown to follow the dose unless it is dated a later day
    before = adt < bds["first"].dt.normalize() + pd.Timedelta(days=1)
    assert not (flagged & before).any()
    # the samples of the first infusion day (pre-dose baselines) are all unflagged ...
    day1 = adt == bds["first"].dt.normalize()
    assert day1.sum() > 0 and not flagged[day1].any()
    assert (bds.loc[day1, "ABLFL"] == "Y").sum() == bds.loc[day1, "PARAMCD"].nunique() * bds.loc[
        day1, "USUBJID"
    ].nunique()
    # ... and every result after the first infusion day up to the last infusion day is flagged
    during = ~before & (adt <= bds["last"].dt.normalize())
    assert (flagged == during).all()


def test_vs_holds_the_collected_heights_and_weights(outs):
    vs = _read(outs["umsc"], "sdtm/vs.xpt")
    vs["SUBJID"] = vs["USUBJID"].str[-3:]
    dm, inf = _raw("DM"), _raw("INFUSION")
    screening = vs[vs["VISIT"] == "SCREENING"].pivot(
        index="SUBJID", columns="VSTESTCD", values="VSSTRESN"
    )
    want = dm.set_index("SUBJID")[["HEIGHT", "WEIGHT"]].astype(float)
    assert screening.loc[want.index, ["HEIGHT", "WEIGHT"]].equals(want)
    assert set(vs.loc[vs["VSTESTCD"] == "HEIGHT", "VSSTRESU"]) == {"cm"}
    assert set(vs.loc[vs["VSTESTCD"] == "WEIGHT", "VSSTRESU"]) == {"kg"}
    given = inf[inf["WEIGHT"] != ""]
    at_infusion = vs[vs["VISIT"].str.startswith("INFUSION")]
    got = sorted(
        zip(at_infusion["SUBJID"], at_infusion["VISIT"], at_infusion["VSSTRESN"], strict=True)
    )
    want = sorted(
        zip(
            given["SUBJID"],
            "INFUSION " + given["INFNO"],
            given["WEIGHT"].astype(float),
            strict=True,
        )
    )
    assert got == want
    assert len(vs) == 2 * len(dm) + len(given)


def test_exposure_as_protocol_and_as_collected(outs):
    out = outs["umsc"]
    ex, ec, inf = _read(out, "sdtm/ex.xpt"), _read(out, "sdtm/ec.xpt"), _raw("INFUSION")
    assert set(ex["EXDOSU"]) == {"10^6/kg"}  # CDISC UNIT C198380
    given = inf[inf["INFYN"] == "是"]
    assert len(ex) == len(given) and sorted(ex["EXDOSE"]) == sorted(given["DOSE"].astype(float))
    performed = ec[ec["ECMOOD"] == "PERFORMED"]
    assert len(performed) == len(inf)
    took = performed[performed["ECOCCUR"] == "Y"]
    assert sorted(took["ECDOSE"]) == sorted(given["TOTCELL"].astype(float))
    assert set(took["ECDOSU"]) == {"10^6 Therapeutic Cells"}
    # subject 004's fourth infusion was planned and not given: EC with ECOCCUR = N, no dose,
    # and no EX record (SDTMIG 3.4 section 6.1.3)
    missed = performed[performed["ECOCCUR"] == "N"]
    assert missed["USUBJID"].str[-3:].tolist() == ["004"] and missed["ECSPID"].tolist() == ["4"]
    assert np.isnan(missed["ECDOSE"].iloc[0]) and missed["ECDOSU"].iloc[0] == ""
    assert not ((ex["USUBJID"].str.endswith("004")) & (ex["EXSPID"] == "4")).any()
    # a subject's EC records follow the infusions (ECSPID), the one not given last
    own = performed[performed["USUBJID"].str.endswith("004")].sort_values("ECSEQ")
    assert own["ECSPID"].tolist() == ["1", "2", "3", "4"]
    assert own["ECOCCUR"].tolist() == ["Y", "Y", "Y", "N"]
    scheduled = ec[ec["ECMOOD"] == "SCHEDULED"]
    planned = dict(zip(scheduled["USUBJID"].str[-3:], scheduled["ECDOSE"], strict=True))
    dose = _raw("DOSEGRP").set_index("SUBJID")["DOSELVL"].astype(float)
    assert planned == dose.to_dict() and set(scheduled["ECDOSU"]) == {"10^6/kg"}


def test_ds_milestones_and_race_as_collected(outs):
    out = outs["umsc"]
    ds, dm, enrol = _read(out, "sdtm/ds.xpt"), _read(out, "sdtm/dm.xpt"), _raw("ENROL")
    milestones = ds[ds["DSCAT"] == "PROTOCOL MILESTONE"]
    for decod, field in (
        ("INFORMED CONSENT OBTAINED", "ICDAT"),
        ("ELIGIBILITY CRITERIA MET", "SCRDAT"),
        ("ENTERED INTO TRIAL", "ENRLDAT"),
    ):
        got = milestones[milestones["DSDECOD"] == decod]
        assert sorted(zip(got["USUBJID"].str[-3:], got["DSSTDTC"], strict=True)) == sorted(
            zip(enrol["SUBJID"], enrol[field], strict=True)
        ), decod
    assert (ds["DSCAT"] == "DISPOSITION EVENT").sum() == len(dm)
    # RACE and ETHNIC follow the collected ethnic group, kept in SUPPDM
    nation = _read(out, "sdtm/suppdm.xpt").query("QNAM == 'NATION'")
    assert set(nation["QVAL"]) == {"HAN", "TUJIA", "MIAO", "HUI"} & set(nation["QVAL"])
    assert set(dm["RACE"]) == {"ASIAN"} and set(dm["ETHNIC"]) == {"NOT HISPANIC OR LATINO"}


def test_specimens_and_markers(outs):
    lb = _read(outs["umsc"], "sdtm/lb.xpt")
    assert set(lb.loc[lb["LBTESTCD"] == "INTLK17", "LBSPEC"]) == {"SERUM"}
    assert set(lb.loc[lb["LBTESTCD"] != "INTLK17", "LBSPEC"]) == {"BLOOD"}
    cp = _read(outs["umsc-ig34"], "sdtm/cp.xpt")
    markers = cp.drop_duplicates("CPTESTCD").set_index("CPTESTCD")["CPMRKSTR"].to_dict()
    assert markers == {
        "TLHRTLH": "CD3+CD4+CD25+CD127-",
        "TH17TH": "CD3+CD4+IL-17A+",
        "TLHNTH": "CD3+CD4+CD45RA+",
        "TLHMTH": "CD3+CD4+CD45RO+",
    }
    assert (cp.groupby("CPTESTCD")["CPMRKSTR"].nunique() == 1).all()


#: ADSL variables a reviewer and the efficacy tables need (in ADaMIG 1.3 names)
ADSL_NEEDED = (
    "AGEGR1 AGEGR1N SAFFL FASFL ENRLFL COMPLFL TRT01P TRT01PN TRT01A TRT01AN DOSE01P DOSE01U "
    "TRTSDT TRTSDTM TRTEDT TRTEDTM EOSSTT EOSDT DCSREAS DCSREASP RFICDT ENRLDT TRTDURD"
).split()
STUDY_SPECIFIC = ["NINFUS", "CUMCELL", "HEIGHTBL", "WEIGHTBL", "BMIBL", "PASIBL", "PGABL"]


def _adamig_adsl_order() -> list[str]:
    path = SHARED / "reference" / "standards" / "adamig-1.3" / "Variables.csv"
    if not path.exists():
        pytest.skip("ADaMIG 1.3 reference tables not available")
    rows = csv.DictReader(path.open(encoding="utf-8-sig"))
    return [r["Variable Name"] for r in rows if r["Data Structure Name"].startswith("Subject")]


def _template(name: str, templates: list[str]) -> int | None:
    import re

    for i, t in enumerate(templates):
        pattern = re.sub(r"xx|zz", r"\\d\\d", t)
        pattern = re.sub(r"(?<=[A-Z])[yw](?=[A-Z]|$)", r"\\d", pattern)
        if re.fullmatch(pattern, name):
            return i
    return None


@pytest.mark.parametrize("spec", ["umsc", "umsc-ig34"])
def test_adsl_variables_in_adamig_order(outs, spec):
    adsl = _read(outs[spec], "adam/adsl.xpt")
    names = list(adsl.columns)
    assert set(ADSL_NEEDED + STUDY_SPECIFIC) <= set(names)
    templates = _adamig_adsl_order()
    pos = [_template(n, templates) for n in names]
    listed = [p for p in pos if p is not None]
    assert listed == sorted(listed)  # ADaMIG variables in ADaMIG 1.3 order ...
    first_other = next(i for i, p in enumerate(pos) if p is None)
    assert all(p is None for p in pos[first_other:])  # ... then the study-specific ones
    assert names[-len(STUDY_SPECIFIC) :] == STUDY_SPECIFIC


def test_adsl_values_against_the_raw_forms(outs):
    adsl = _read(outs["umsc"], "adam/adsl.xpt").set_index("SUBJID")
    dm, inf, eos = _raw("DM"), _raw("INFUSION"), _raw("EOS").set_index("SUBJID")
    given = inf[inf["INFYN"] == "是"]
    assert adsl["NINFUS"].to_dict() == given.groupby("SUBJID").size().astype(float).to_dict()
    cells = given.assign(t=given["TOTCELL"].astype(float)).groupby("SUBJID")["t"].sum()
    assert np.allclose(adsl.loc[cells.index, "CUMCELL"], cells)
    assert adsl["HEIGHTBL"].to_dict() == dm.set_index("SUBJID")["HEIGHT"].astype(float).to_dict()
    first = given[given["INFNO"] == "1"].set_index("SUBJID")["WEIGHT"].astype(float)
    assert adsl["WEIGHTBL"].to_dict() == first.to_dict()  # weighed before the first infusion
    assert np.allclose(adsl["BMIBL"], adsl["WEIGHTBL"] / (adsl["HEIGHTBL"] / 100) ** 2)
    days = (pd.to_datetime(adsl["TRTEDT"]) - pd.to_datetime(adsl["TRTSDT"])).dt.days
    assert (adsl["TRTDURD"] == days + 1).all()
    stopped = eos[eos["COMPLYN"] != "是"].index
    assert list(stopped) == ["012"]
    assert adsl.loc["012", ["EOSSTT", "DCSREAS", "COMPLFL"]].tolist() == [
        "DISCONTINUED",
        "LOST TO FOLLOW-UP",
        "N",
    ]
    assert set(adsl.drop(index="012")["EOSSTT"]) == {"COMPLETED"}
    assert set(adsl.drop(index="012")["DCSREAS"]) == {""}
    assert (
        adsl["DOSE01P"].to_dict()
        == _raw("DOSEGRP").set_index("SUBJID")["DOSELVL"].astype(float).to_dict()
    )
    assert (adsl["FASFL"] == "Y").sum() == 17 and (adsl["SAFFL"] == "Y").sum() == 17


#: Trial Summary parameters the FDA Study Data Technical Conformance Guide lists for a
#: clinical study (each present, with a value or a null flavor)
FDA_TS = (
    "ADDON AGEMAX AGEMIN LENGTH PLANSUB RANDOM SEXPOP STOPRULE TBLIND TCNTRL TDIGRP TINDTP "
    "TITLE TPHASE TTYPE CURTRT COMPTRT INDIC TRT PCLAS FCNTRY ADAPT DCUTDTC DCUTDESC INTMODEL "
    "NARMS STYPE INTTYPE SSTDTC SENDTC ACTSUB HLTSUBJI SDTIGVER SDTMVER THERAREA REGID "
    "OUTMSPRI OUTMSSEC OUTMSEXP PDPSTIND PDSTIND PIPIND RDIND ONGOSIND NCOHORT OBJPRIM OBJSEC "
    "OBJEXP SPONSOR EXTTIND"
).split()
#: parameters whose values are CDISC terms, with the codelist of their values
CDISC_CODED = {
    "TPHASE": "C66737",
    "TTYPE": "C66739",
    "STYPE": "C99077",
    "INTMODEL": "C99076",
    "INTTYPE": "C99078",
    "TBLIND": "C66735",
    "TCNTRL": "C66785",
    "TINDTP": "C66736",
    "SEXPOP": "C66732",
    **dict.fromkeys(
        "ADAPT ADDON RANDOM HLTSUBJI PDSTIND PDPSTIND PIPIND RDIND ONGOSIND EXTTIND".split(),
        "C66742",
    ),
}


def _ct_codes() -> dict[tuple[str, str], str]:
    path = SHARED / "reference" / "ct" / "SDTM_Terminology_2025-03-28.txt"
    if not path.exists():
        pytest.skip("CDISC CT reference file not available")
    rows = csv.reader(path.open(encoding="utf-8"), delimiter="\t")
    next(rows)
    return {(r[1], r[4]): r[0] for r in rows if r[1]}


@pytest.mark.parametrize("spec", ["umsc", "umsc-ig34"])
def test_ts_fda_parameters_with_codes(outs, spec):
    ts = _read(outs[spec], "sdtm/ts.xpt")
    assert set(FDA_TS) <= set(ts["TSPARMCD"])
    assert ((ts["TSVAL"] != "") != (ts["TSVALNF"] != "")).all()  # a value or a null flavor
    codes = _ct_codes()
    for row in ts[ts["TSPARMCD"].isin(list(CDISC_CODED))].itertuples():
        want = codes[(CDISC_CODED[row.TSPARMCD], row.TSVAL)]
        assert (row.TSVALCD, row.TSVCDREF, row.TSVCDVER) == (want, "CDISC CT", "2025-03-28")
    indic = ts[ts["TSPARMCD"].isin(["INDIC", "TDIGRP"])]
    assert set(zip(indic["TSVALCD"], indic["TSVCDREF"], strict=True)) == {("200965009", "SNOMED")}
    assert set(ts.loc[ts["TSVALNF"] != "", "TSPARMCD"]) == {"PCLAS", "CURTRT", "COMPTRT", "SDMDUR"}
