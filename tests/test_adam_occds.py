"""OCCDS from a spec (cdisc_umsc/adam/occds.py) and the bundled trial's ADAE."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.adam.occds import build_occds
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import load_spec_file

AE = pd.DataFrame(
    {
        "STUDYID": "S",
        "USUBJID": ["S-1", "S-1", "S-1", "S-2", "S-9"],
        "AESEQ": [1.0, 2.0, 3.0, 1.0, 1.0],
        "AEDECOD": ["Headache", "Pyrexia", "Headache", "Rash", "Rash"],
        "AEBODSYS": ["Nervous", "General", "Nervous", "Skin", "Skin"],
        "AESTDTC": ["2019-01", "2019-01-05", "2019-03-20", "", "2019-01-02"],
        "AEENDTC": ["2019-01-12", "2019-01", "", "2019-01-03", ""],
    }
)
ADSL = pd.DataFrame(
    {
        "STUDYID": "S",
        "USUBJID": ["S-1", "S-2"],
        "TRT01A": ["UMSC", "UMSC"],
        "TRTSDT": [21559.0, 21559.0],
        "TRTEDT": [21580.0, 21580.0],
    }
)
SPEC = """
dataset: ADAE
structure: OCCDS
label: AE
keys: [STUDYID, USUBJID, AESEQ]
source: AE
copy: [AESEQ, AEDECOD, AEBODSYS, AESTDTC, AEENDTC]
adsl: [TRTSDT, TRTEDT]
treatment: {TRTA: TRT01A}
dates: {start: AESTDTC, end: AEENDTC, highest: M, min_date: TRTSDT}
trtemfl: {end_window: 30, missing_start: emergent}
occurrence:
  - {flag: AOCCFL, by: [USUBJID], order: [ASTDT, AESEQ], where: {TRTEMFL: "Y"}}
  - {flag: AOCCPFL, by: [USUBJID, AEBODSYS, AEDECOD], order: [ASTDT, AESEQ],
     where: {TRTEMFL: "Y"}}
"""


def _spec(tmp_path, text: str = SPEC):
    path = tmp_path / "adae.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec_file(path)


def test_occds_from_spec(tmp_path) -> None:
    ae = build_occds(_spec(tmp_path), {"AE": AE}, ADSL)
    assert ae["USUBJID"].tolist() == ["S-1", "S-1", "S-1", "S-2"]  # one record per AE
    assert (ae["TRTA"] == "UMSC").all()
    # 2019-01 contains the first dose (2019-01-10): imputed to it, flagged D
    assert ae["ASTDT"].tolist()[:3] == [21559.0, 21554.0, 21628.0]
    assert ae["ASTDTF"].tolist() == ["D", "", "", ""]
    assert ae["AENDT"].iloc[1] == 21580.0 and ae["AENDTF"].iloc[1] == "D"  # 2019-01 -> 01-31
    assert ae["ASTDY"].tolist()[:3] == [1.0, -5.0, 70.0]
    # starts before dose: no; 70 days after start but > TRTEDT + 30: no; no start, ends
    # before the first dose: no
    assert ae["TRTEMFL"].tolist() == ["Y", "", "", ""]
    assert ae["AOCCFL"].tolist() == ["Y", "", "", ""]
    assert ae["AOCCPFL"].tolist() == ["Y", "", "", ""]


def test_occds_errors(tmp_path) -> None:
    with pytest.raises(InputError, match="missing_start must be"):
        build_occds(
            _spec(tmp_path, SPEC.replace("missing_start: emergent", "missing_start: maybe")),
            {"AE": AE},
            ADSL,
        )
    bad = AE.assign(AESTDTC=["2019-01", "05/01/2019", "", "", ""])
    with pytest.raises(InputError, match=r"adae.yaml:\d+: ADAE: record 2: '05/01/2019'"):
        build_occds(_spec(tmp_path), {"AE": bad}, ADSL)


def test_bundled_adae(bundled_run) -> None:
    result, out = bundled_run
    adae, ae = result.adam["ADAE"], result.sdtm.data["AE"]
    assert len(adae) == len(ae) and set(adae["AESEQ"].astype(str) + adae["USUBJID"]) == set(
        ae["AESEQ"].astype(str) + ae["USUBJID"]
    )
    partial = adae[adae["AESTDTC"].str.len() < 10]
    assert (partial["ASTDTF"] != "").all() and len(partial) == 2
    meta = result.adam_meta["ADAE"]
    assert meta.cls == "OCCURRENCE DATA STRUCTURE" and meta.keys == ("STUDYID", "USUBJID", "AESEQ")
    assert meta.var("TRTEMFL").label == "Treatment Emergent Analysis Flag"
    assert meta.var("AESEQ").label == "Sequence Number" and meta.var("ASTDT").format == "DATE9."
    first = adae[adae["AOCCFL"] == "Y"]
    assert first["USUBJID"].is_unique and set(first["USUBJID"]) == set(
        adae.loc[adae["TRTEMFL"] == "Y", "USUBJID"]
    )
    assert (out / "adam" / "adae.xpt").is_file()
    assert np.isnan(adae["AENDT"]).sum() == (adae["AEENDTC"] == "").sum()
