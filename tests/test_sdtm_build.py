"""Assembling SDTM domains stage by stage (cdisc_umsc/sdtm/build.py): source filters and the
rows they leave out, melted CRF rows, derived records and their lineage, and the key sort."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core import conditions as C
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.spec import StudySpec
from cdisc_umsc.read.forms import FORM, ROW
from cdisc_umsc.sdtm import build as B
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from cdisc_umsc.sdtm.context import Build, Context
from cdisc_umsc.sdtm.pipeline import build_sdtm, read_forms
from tests.conftest import write_trial

STUDY = """\
study: {STUDYID: T1, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: "2021-01-01T00:00:00"}
raw: {subject: SUBJID}
forms:
  DM:
    file: DM.csv
    key: [SUBJID]
    fields: {SUBJID: {}, SITE: {}}
  PS:
    file: PS.csv
    key: [SUBJID, PSNO]
    fields: {SUBJID: {}, PSNO: {type: integer}, DONE: {}, VIS: {}, A: {}, B: {}, C: {}}
"""
CODELISTS = """\
codelists:
  PSTC: {name: PS item code, terms: {A: Item A, B: Item B, C: Item C, TOT: Total}}
recodes:
  done: {map: {是: Y, 否: N}}
"""
DM = """\
domain: DM
source: DM
keys: [STUDYID, USUBJID]
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: DM}
  USUBJID: {template: "{STUDYID}-{SUBJID}"}
  SUBJID: {field: SUBJID}
  SITEID: {field: SITE}
"""
QS = """\
domain: QS
keys: [STUDYID, USUBJID, QSTESTCD, VISITNUM]
sources:
  - form: PS
    where: {WHERE}
    excluded_because: not done
    melt: {fields: [A, B, C], name: ITEM, value: SCORE{SKIP}}
    variables:
      QSTESTCD: {field: ITEM, codelist: PSTC}
      QSTEST: {decode: QSTESTCD}
      QSCAT: {hardcode: PS}
      QSORRES: {field: SCORE}
      QSSTRESN: {number: SCORE}
      VISITNUM: {number: VIS}
      QSSTAT: {recode: done, field: DONE}
{DERIVED}variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: QS}
  USUBJID: {dm: USUBJID}
  QSSEQ: {seq: true}
"""
DERIVED = """\
derived:
  - name: total
    by: [USUBJID, VISITNUM]
    pivot: QSTESTCD
    value: QSSTRESN
    formula: {FORMULA}
    decimals: 1
    set: {QSTESTCD: TOT, QSDRVFL: "Y"}
    result: [QSORRES, QSSTRESN]
"""
RAW_DM = "SUBJID,SITE\n001,01\n002,01\n"
#: raw rows 1-4: 001's row 2 is not done; 001 row 3 (visit 2) has no C score
RAW_PS = (
    "SUBJID,PSNO,DONE,VIS,A,B,C\n"
    "002,1,是,1,1,2,3\n"
    "001,1,否,1,,,\n"
    "001,2,是,2,0.25,0.25,\n"
    "001,3,是,1,1,1,1\n"
)


def _trial(
    tmp: Path,
    *,
    where: str = "{DONE: 是}",
    skip: bool = False,
    formula: str | None = None,
    ps: str = RAW_PS,
) -> tuple[Path, Path]:
    derived = "" if formula is None else DERIVED.replace("{FORMULA}", formula)
    qs = (
        QS.replace("{WHERE}", where)
        .replace("{SKIP}", ", skip_blank: true" if skip else "")
        .replace("{DERIVED}", derived)
    )
    return write_trial(
        tmp,
        {
            "study.yaml": STUDY,
            "codelists.yaml": CODELISTS,
            "sdtm/dm.yaml": DM,
            "sdtm/qs.yaml": qs,
        },
        {"DM.csv": RAW_DM, "PS.csv": ps},
    )


def _started(tmp: Path, **kw) -> tuple[StudySpec, Context, Build]:
    """Stage 0 of DM and QS (DM first: QS reads USUBJID from it)."""
    spec, raw = _trial(tmp, **kw)
    study = load_checked_spec(spec)
    ctx = Context(study, read_forms(study, raw))
    ctx.builds["DM"] = B.start_domain(ctx, study.domains["DM"])
    ctx.builds["QS"] = B.start_domain(ctx, study.domains["QS"])
    return study, ctx, ctx.builds["QS"]


# ------------------------------------------------------------------ spec look-ups


def test_coded_fields_lists_each_recoded_raw_field_with_its_crf_codes(tmp_path) -> None:
    spec, _raw = _trial(tmp_path)
    study = load_checked_spec(spec)
    # DONE goes through the recode table (its codes are named by where they come from);
    # ITEM and SCORE (melt columns) and A/B/C do not
    assert B.coded_fields(study) == {("PS", "DONE"): {"recode table done": ["是", "否"]}}


def test_tests_of_collects_nested_tests_but_not_those_of_has_records() -> None:
    cond = C.parse_condition(
        {
            "A": 1,
            "any": [{"B": {"not": None}}, {"not": {"C": [2, 3]}}],
            "has_records": {"domain": "AE", "where": {"AESER": "Y"}},
        }
    )
    assert B.tests_of(cond) == [
        C.Test("A", "eq", 1),
        C.Test("B", "null", None, True),
        C.Test("C", "in", (2, 3)),
    ]


# ------------------------------------------------------------------ stage 0: records


def test_start_domain_filters_melts_in_field_order_and_records_the_exclusion(tmp_path) -> None:
    _study, ctx, b = _started(tmp_path)
    # raw row 2 (DONE = 否) is left out with the spec's reason, nothing else
    assert ctx.excluded == [("PS", 2, "not done")]
    # one record per melted field, in the fields' order within each kept raw row
    assert b.raw[ROW].tolist() == [1, 1, 1, 3, 3, 3, 4, 4, 4]
    assert b.raw[FORM].tolist() == ["PS"] * 9
    assert b.out["QSTESTCD"].tolist() == list("ABC" * 3)
    # the blank C of row 3 is still a record without skip_blank
    assert b.out["QSORRES"].tolist() == ["1", "2", "3", "0.25", "0.25", "", "1", "1", "1"]
    assert b.out["QSSTRESN"].iloc[5] != b.out["QSSTRESN"].iloc[5]  # NaN
    assert b.out["USUBJID"].tolist() == ["T1-002"] * 3 + ["T1-001"] * 6
    # row-stage variables are done, the stage-4 sequence number is not computed yet
    assert "QSSEQ" not in b.out.columns
    assert {"QSTESTCD", "QSSTAT", "USUBJID", "STUDYID"} <= b.done
    assert b.codelist_of == {"QSTESTCD": "PSTC"}


def test_skip_blank_drops_empty_cells_and_excludes_a_row_with_no_value(tmp_path) -> None:
    ps = RAW_PS + "002,2,是,2,,,\n"  # row 5: done, but no score at all
    _study, ctx, b = _started(tmp_path, skip=True, ps=ps)
    assert b.raw[ROW].tolist() == [1, 1, 1, 3, 3, 4, 4, 4]
    assert b.out["QSTESTCD"].tolist() == ["A", "B", "C", "A", "B", "A", "B", "C"]
    assert ctx.excluded == [("PS", 2, "not done"), ("PS", 5, "no value in any of A, B, C")]


@pytest.mark.parametrize("value", ["Y", ""])
def test_a_row_left_out_on_a_value_that_is_no_crf_code_is_a_row_error(tmp_path, value) -> None:
    ps = RAW_PS.replace("001,1,否", f"001,1,{value}")
    with pytest.raises(InputError) as err:
        _started(tmp_path, ps=ps)
    assert str(err.value) == (
        "PS.csv: row 2, column DONE: not a code of the field (recode table done: 是, 否), "
        "yet it decides the source filter of QS: a row is left out only on a known code "
        f"(got {value!r})"
    )


def test_a_blank_coded_field_may_be_left_out_where_the_filter_tests_for_blank(tmp_path) -> None:
    ps = RAW_PS.replace("001,1,否,1,,,", "001,1,,1,,,")
    _study, ctx, b = _started(tmp_path, where="{DONE: {not: null}}", ps=ps)
    assert ctx.excluded == [("PS", 2, "not done")]
    assert b.raw[ROW].drop_duplicates().tolist() == [1, 3, 4]


# ------------------------------------------------------------------ stage 2: derived records


def _qs(tmp: Path, **kw):
    spec, raw = _trial(tmp, **kw)
    result = build_sdtm(load_checked_spec(spec), raw)
    return result.data["QS"], result


def test_derived_records_per_group_rounded_and_none_for_a_group_missing_an_input(
    tmp_path,
) -> None:
    qs, result = _qs(tmp_path, formula="A + B + C")
    tot = qs[qs["QSTESTCD"] == "TOT"]
    # 001 visit 2 has no C: no total; 001 visit 1 is 1 + 1 + 1, 002 visit 1 is 1 + 2 + 3
    assert tot["USUBJID"].tolist() == ["T1-001", "T1-002"]
    assert tot["VISITNUM"].tolist() == [1.0, 1.0]
    assert tot["QSSTRESN"].tolist() == [3.0, 6.0]
    assert tot["QSORRES"].tolist() == ["3", "6"]  # text result as text
    assert tot["QSDRVFL"].tolist() == ["Y", "Y"]
    # other variables copied from the group's first record
    assert tot["QSCAT"].tolist() == ["PS", "PS"]
    assert tot["QSSTAT"].tolist() == ["Y", "Y"]
    # collected records are not flagged
    assert set(qs.loc[qs["QSTESTCD"] != "TOT", "QSDRVFL"]) == {""}
    # a derived record has no raw row; each links to the three records it came from
    assert result.lineage["QS"].loc[tot.index, "form"].tolist() == ["", ""]
    edges = result.derived_from["QS"]
    for pos in tot.index:
        sources = sorted(edges.loc[edges["record"] == pos, "source"])
        want = qs.index[
            (qs["USUBJID"] == qs.at[pos, "USUBJID"])
            & (qs["VISITNUM"] == 1.0)
            & qs["QSTESTCD"].isin(["A", "B", "C"])
        ]
        assert sources == sorted(want)
    assert (
        edges["step"]
        .str.fullmatch(r".*qs\.yaml:\d+: derived record 'total' \(QSTESTCD by USUBJID, VISITNUM\)")
        .all()
    )


def test_derived_formula_reads_only_the_codes_it_names_and_rounds(tmp_path) -> None:
    qs, result = _qs(tmp_path, formula="(A + B) / 3")
    tot = qs[qs["QSTESTCD"] == "TOT"]
    # C is not named, so 001 visit 2 gets a total: 0.5 / 3 -> 0.2; 2 / 3 -> 0.7; 3 / 3 -> 1
    assert list(zip(tot["USUBJID"], tot["VISITNUM"], tot["QSSTRESN"], strict=True)) == [
        ("T1-001", 1.0, 0.7),
        ("T1-001", 2.0, 0.2),
        ("T1-002", 1.0, 1.0),
    ]
    assert tot["QSORRES"].tolist() == ["0.7", "0.2", "1"]
    # lineage: only the A and B records of each group
    edges = result.derived_from["QS"]
    used = qs.loc[edges["source"], "QSTESTCD"]
    assert set(used) == {"A", "B"}
    assert len(edges) == 6


def test_a_formula_naming_a_code_no_record_has_is_a_spec_error(tmp_path) -> None:
    with pytest.raises(InputError) as err:
        _qs(tmp_path, formula="A + D")
    assert re.fullmatch(
        r"\S*qs\.yaml:21: formula names D, but no record has QSTESTCD = D", str(err.value)
    )


def test_a_formula_dividing_by_zero_is_a_spec_error(tmp_path) -> None:
    # B - 1 is 0 for 001 visit 1
    with pytest.raises(InputError, match=r"qs\.yaml:\d+: formula gives no finite number"):
        _qs(tmp_path, formula="A / (B - 1)")


# ------------------------------------------------------------------ stage 4: sort


def _sortable(tmp: Path) -> Build:
    _study, _ctx, b = _started(tmp)
    out = pd.DataFrame(
        {
            "STUDYID": ["T1"] * 5,
            "USUBJID": ["T1-002", "T1-001", "T1-001", "T1-001", "T1-001"],
            "QSTESTCD": ["A", "B", "A", "A", "A"],
            "VISITNUM": [1.0, 1.0, 2.0, np.nan, 2.0],
            "QSORRES": ["r1", "r2", "r3", "r4", "r5"],
        }
    )
    raw = pd.DataFrame({FORM: ["PS"] * 5, ROW: [1, 2, 3, 4, 5]})
    supp = {"QX": pd.Series(["s1", "s2", "s3", "s4", "s5"])}
    return Build(b.spec, raw, out, supp=supp)


def test_sort_domain_by_keys_blank_first_and_ties_in_the_order_they_came(tmp_path) -> None:
    b = _sortable(tmp_path)
    B.sort_domain(b)
    # 001 A: blank visit first, then the two visit-2 records (a tie) as they came (r3, r5)
    assert b.out["QSORRES"].tolist() == ["r4", "r3", "r5", "r2", "r1"]
    assert b.raw[ROW].tolist() == [4, 3, 5, 2, 1]
    assert b.supp["QX"].tolist() == ["s4", "s3", "s5", "s2", "s1"]
    assert b.out.index.tolist() == [0, 1, 2, 3, 4]


def test_sort_domain_ignores_seq_keys_and_leaves_a_keyless_domain_as_it_is(tmp_path) -> None:
    b = _sortable(tmp_path)
    b.out["QSSEQ"] = [5.0, 4.0, 3.0, 2.0, 1.0]
    b.spec = replace(b.spec, keys=("USUBJID", "QSSEQ"))
    B.sort_domain(b)
    # only USUBJID sorts; QSSEQ (computed after the sort) does not reorder the ties
    assert b.out["QSORRES"].tolist() == ["r2", "r3", "r4", "r5", "r1"]
    b = _sortable(tmp_path / "again")
    b.spec = replace(b.spec, keys=("QSSEQ", "NOTHERE"))
    B.sort_domain(b)
    assert b.out["QSORRES"].tolist() == ["r1", "r2", "r3", "r4", "r5"]
