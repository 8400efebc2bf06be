"""Look-ups between forms on any declared key, and unscheduled visit numbers
(cdisc_umsc/sdtm/context.py), on a small trial whose dates live on the visit form and whose AE
coding is a raw export keyed by subject and AE number."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import SpecError
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from cdisc_umsc.sdtm.pipeline import build_sdtm
from tests.conftest import write_trial

STUDY = """\
study: {STUDYID: L1, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: "2024-06-30T00:00:00"}
raw: {subject: Subject}
visits:
  - {VISITNUM: 1, VISIT: SCREENING, raw: Screening}
  - {VISITNUM: 2, VISIT: DAY 1, raw: Day 1}
  - {VISITNUM: 3, VISIT: WEEK 2, raw: Week 2}
unscheduled: {raw: "Unscheduled *", visit: VISIT.InstanceName, date: VISIT.VISDAT}
forms:
  DM: {file: DM.csv, key: [Subject], fields: {Subject: {}, Site: {}}}
  VISIT:
    file: VISIT.csv
    key: [Subject, InstanceName]
    fields: {Subject: {}, InstanceName: {}, VISDAT: {type: date, format: MM/DD/YYYY}}
  VS:
    file: VS.csv
    key: [Subject, InstanceName]
    fields: {Subject: {}, InstanceName: {}, SYSBP: {type: number}}
  AE:
    file: AE.csv
    key: [Subject, AENUM]
    fields: {Subject: {}, AENUM: {type: integer}, AETERM: {}}
  AECODE:
    file: AECODE.csv
    key: [Subject, LINE]
    fields: {Subject: {}, LINE: {type: integer}, PT: {}, PTCODE: {}, SOC: {}}
"""
DM = """\
domain: DM
source: DM
keys: [STUDYID, USUBJID]
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: DM}
  USUBJID: {template: "{STUDYID}-{Subject}"}
  SUBJID: {field: Subject}
  SITEID: {field: Site}
  # a subject-level date from one visit: the condition is on SV's records
  RFICDTC: {aggregate: min, of: SV.SVSTDTC, where: {VISITNUM: 1}}
"""
SV = """\
domain: SV
source: VISIT
keys: [STUDYID, USUBJID, VISITNUM]
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: SV}
  USUBJID: {dm: USUBJID}
  VISITNUM: {visitnum: InstanceName}
  VISIT: {visit: InstanceName}
  SVSTDTC: {date: VISDAT}
"""
VS = """\
domain: VS
source: VS
keys: [STUDYID, USUBJID, VSTESTCD, VISITNUM]
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: VS}
  USUBJID: {dm: USUBJID}
  VSSEQ: {seq: true}
  VSTESTCD: {hardcode: SYSBP}
  VSTEST: {hardcode: Systolic Blood Pressure}
  VSORRES: {field: SYSBP}
  VISITNUM: {visitnum: InstanceName}
  VISIT: {visit: InstanceName}
  VSDTC: {date: VISIT.VISDAT}     # the date lives on the visit form: joined on its key
"""
AE = """\
domain: AE
source: AE
keys: [STUDYID, USUBJID, AESPID]
# the coding export numbers the events LINE; this form calls the number AENUM
lookups: {AECODE: {on: {Subject: Subject, LINE: AENUM}}}
dictionaries:
  meddra: {form: AECODE, name: MEDDRA, version: "27.0"}
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: AE}
  USUBJID: {dm: USUBJID}
  AESEQ: {seq: true}
  AESPID: {field: AENUM}
  AETERM: {field: AETERM}
  AEDECOD: {dictionary: meddra, column: PT}
  AEPTCD: {dictionary: meddra, column: PTCODE}
  AEBODSYS: {dictionary: meddra, column: SOC}
"""
RAW = {
    "DM.csv": "Subject,Site\n001,01\n002,01\n",
    "VISIT.csv": (
        "Subject,InstanceName,VISDAT\n"
        "001,Screening,01/02/2024\n"
        "001,Day 1,01/10/2024\n"
        "001,Unscheduled 1,01/15/2024\n"
        "001,Week 2,01/24/2024\n"
        "001,Unscheduled 2,01/12/2024\n"
        "002,Screening,01/05/2024\n"
        "002,Day 1,01/11/2024\n"
        "002,Unscheduled 1,01/30/2024\n"
    ),
    "VS.csv": (
        "Subject,InstanceName,SYSBP\n"
        "001,Day 1,120\n"
        "001,Unscheduled 1,131\n"
        "002,Day 1,118\n"
        "002,Week 2,125\n"  # no visit date collected for 002's week 2
    ),
    "AE.csv": "Subject,AENUM,AETERM\n001,1,Headache\n001,2,mal de tête\n002,1,Kopfschmerzen\n",
    "AECODE.csv": (
        "Subject,LINE,PT,PTCODE,SOC\n"
        "001,1,Headache,10019211,Nervous system disorders\n"
        "001,2,Headache,10019211,Nervous system disorders\n"
        "002,1,Headache,10019211,Nervous system disorders\n"
    ),
}


def _spec(**over: str) -> dict[str, str]:
    files = {
        "study.yaml": STUDY,
        "sdtm/dm.yaml": DM,
        "sdtm/sv.yaml": SV,
        "sdtm/vs.yaml": VS,
        "sdtm/ae.yaml": AE,
    }
    files.update(over)
    return files


def _run(tmp: Path, spec: dict[str, str] | None = None, raw: dict[str, str] | None = None):
    spec_dir, raw_dir = write_trial(tmp, spec or _spec(), raw or RAW)
    return build_sdtm(load_checked_spec(spec_dir), raw_dir)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("lookups"))


def test_a_findings_date_comes_from_the_visit_form_by_subject_and_visit(result) -> None:
    vs = result.data["VS"]
    got = dict(zip(vs["USUBJID"] + "/" + vs["VISIT"], vs["VSDTC"], strict=True))
    assert got == {
        "L1-001/DAY 1": "2024-01-10",
        "L1-001/UNSCHEDULED 2.02": "2024-01-15",
        "L1-002/DAY 1": "2024-01-11",
        "L1-002/WEEK 2": "",  # no row of the visit form has it: blank, not another visit's
    }


def test_aggregate_where_reads_the_source_domain(result) -> None:
    dm = result.data["DM"]
    assert dm["RFICDTC"].tolist() == ["2024-01-02", "2024-01-05"]  # the screening visits


def test_unscheduled_visits_are_numbered_after_the_planned_visit_before_them(result) -> None:
    sv = result.data["SV"]
    got = dict(zip(sv["USUBJID"] + "/" + sv["SVSTDTC"], sv["VISITNUM"], strict=True))
    # 001: Unscheduled 2 (Jan 12) and Unscheduled 1 (Jan 15) both follow Day 1 (VISITNUM 2):
    # numbered in date order, not by name; 002's follows Day 1 too (no Week 2 attended)
    assert got["L1-001/2024-01-12"] == 2.01 and got["L1-001/2024-01-15"] == 2.02
    assert got["L1-002/2024-01-30"] == 2.01 and got["L1-001/2024-01-24"] == 3.0
    visits = dict(zip(sv["VISITNUM"], sv["VISIT"], strict=False))
    assert visits[2.01] == "UNSCHEDULED 2.01" and visits[3.0] == "WEEK 2"


def test_ae_coding_from_a_raw_export_on_a_declared_key(result) -> None:
    ae = result.data["AE"]
    assert ae["AEDECOD"].tolist() == ["Headache"] * 3
    assert ae["AEPTCD"].tolist() == [10019211.0] * 3
    assert ae["AETERM"].tolist() == ["Headache", "mal de tête", "Kopfschmerzen"]
    code = next(f for f in result.accounting if f["form"] == "AECODE")
    assert (code["read"], code["mapped"]) == (3, 3)
    assert code["fields"]["PT"] == "read by AE.AEDECOD"
    assert code["fields"]["LINE"] == "read by AE.AEDECOD, AE.AEPTCD, AE.AEBODSYS"


def test_lineage_names_the_looked_up_row_and_its_key(result) -> None:
    rows = result.looked_up["VS"]
    first = rows[rows["record"] == 0].iloc[0]
    assert (first["form"], first["row"], first["key"]) == (
        "VISIT",
        2,
        "Subject=001, InstanceName=Day 1",
    )


def test_a_key_that_does_not_identify_one_row_is_an_error(tmp_path) -> None:
    vs = VS.replace("keys: [STUDYID", "lookups: {VISIT: {on: [Subject]}}\nkeys: [STUDYID")
    with pytest.raises(InputError) as exc:
        _run(tmp_path, _spec(**{"sdtm/vs.yaml": vs}))
    assert str(exc.value) == (
        "VISIT.csv: rows 1 and 2 both have Subject='001': sdtm/vs.yaml: the look-up of "
        "VISIT.VISDAT needs one row of VISIT per Subject"
    ).replace("sdtm/vs.yaml", "spec/sdtm/vs.yaml")


def test_a_join_this_form_cannot_make_is_a_spec_error(tmp_path) -> None:
    ae = AE.replace("lookups: {AECODE: {on: {Subject: Subject, LINE: AENUM}}}\n", "")
    with pytest.raises(SpecError) as exc:
        _run(tmp_path, _spec(**{"sdtm/ae.yaml": ae}))
    assert "a record of AE finds its row of AECODE by Subject, LINE, but AE has no field LINE" in (
        str(exc.value)
    )


def test_an_uncoded_event_and_an_unused_export_row_are_errors(tmp_path) -> None:
    raw = dict(RAW)
    raw["AECODE.csv"] = RAW["AECODE.csv"].replace(
        "002,1,", "002,7,"
    )  # 002's event 1 is not coded; the export's row for event 7 matches no event
    with pytest.raises(
        InputError,
        match=r"AE.csv: row 3, column AENUM: no row of the coding "
        r"export AECODE.csv for this record's Subject, AENUM \(uncoded\)",
    ):
        _run(tmp_path, raw=raw)


def test_an_unscheduled_visit_not_on_the_visit_form_is_an_error(tmp_path) -> None:
    raw = dict(RAW)
    raw["VS.csv"] = RAW["VS.csv"] + "002,Unscheduled 4,140\n"
    with pytest.raises(
        InputError,
        match=r"VS.csv: row 5, column InstanceName: unscheduled visit "
        r"not on the visit form VISIT.csv",
    ):
        _run(tmp_path, raw=raw)
