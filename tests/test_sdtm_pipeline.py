"""Raw forms to SDTM (cdisc_umsc/sdtm/pipeline.py): the raw folder's files, the domain order,
conforming to metadata, and what the result records about each raw row (accounting, lineage,
look-ups, conditions that matched nothing, identifier values)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.sdtm import pipeline as P
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from tests.conftest import write_trial

STUDY = """\
study: {STUDYID: T1, sdtm: SDTMIG 3.4, ct: SDTM CT 2025-03-28, created: "2021-01-01T00:00:00"}
raw: {subject: SUBJID, identifiers: [DM.NAME], ignore: {"*.txt": notes of the data manager}}
forms:
  DM:
    file: DM.csv
    key: [SUBJID]
    fields: {SUBJID: {}, SITE: {}, NAME: {}}
  PS:
    file: PS.csv
    key: [SUBJID, PSNO]
    fields: {SUBJID: {}, PSNO: {type: integer}, DONE: {}, A: {}, B: {}}
"""
BL_FORM = """\
  BL:
    file: BL.csv
    key: [SUBJID]
    fields: {SUBJID: {}, HT: {}}
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
keys: [STUDYID, USUBJID, QSTESTCD, QSORRES]
sources:
  - form: PS
    where: {DONE: Y}
    excluded_because: not done
    melt: {fields: [A, B], name: ITEM, value: SCORE}
    variables:
      QSTESTCD: {field: ITEM, codelist: null}
      QSTEST: {field: ITEM}
      QSCAT: {hardcode: PS}
      QSORRES: {field: SCORE}
      QSGRPID: {field: DM.SITE}
      QSSTAT: {hardcode: NOT DONE, when: {SCORE: NEVER}}
variables:
  STUDYID: {setting: STUDYID}
  DOMAIN: {hardcode: QS}
  USUBJID: {dm: USUBJID}
  QSSEQ: {seq: true}
"""
RAW = {
    "DM.csv": "SUBJID,SITE,NAME\n001,01,Wang Wei\n002,02,\n",
    # raw rows 1-3; row 2 is not done
    "PS.csv": "SUBJID,PSNO,DONE,A,B\n002,1,Y,3,1\n001,1,N,,\n001,2,Y,2,2\n",
    "notes.txt": "not study data\n",
}


def _trial(
    tmp: Path, *, study: str = STUDY, qs: str = QS, raw: dict[str, str] | None = None
) -> tuple[Path, Path]:
    files = {"study.yaml": study, "sdtm/dm.yaml": DM, "sdtm/qs.yaml": qs}
    return write_trial(tmp, files, RAW if raw is None else raw)


def _run(tmp: Path, **kw) -> P.SdtmResult:
    spec, raw = _trial(tmp, **kw)
    return P.build_sdtm(load_checked_spec(spec), raw)


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> P.SdtmResult:
    return _run(tmp_path_factory.mktemp("pipeline"))


# ------------------------------------------------------------------ the raw folder


def test_ignored_files_gives_each_non_form_file_its_reason(tmp_path) -> None:
    spec, raw = _trial(tmp_path)
    (raw / "sub").mkdir()
    (raw / "sub" / "more.txt").write_text("x\n", encoding="utf-8")
    study = load_checked_spec(spec)
    assert P.ignored_files(study, raw) == [
        {"file": "notes.txt", "reason": "notes of the data manager"},
        {"file": "sub/more.txt", "reason": "notes of the data manager"},
    ]


def test_a_file_that_is_neither_a_form_nor_ignored_is_an_error(tmp_path) -> None:
    spec, raw = _trial(tmp_path)
    (raw / "extra.csv").write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        P.ignored_files(load_checked_spec(spec), raw)
    assert str(err.value) == (
        "raw/extra.csv: a file of the raw folder that is no form of the spec; declare it as a "
        "form, or list it under raw: ignore: in study.yaml with the reason"
    )


def test_read_forms_reads_every_declared_form_with_its_row_numbers(tmp_path) -> None:
    spec, raw = _trial(tmp_path)
    forms = P.read_forms(load_checked_spec(spec), raw)
    assert sorted(forms) == ["DM", "PS"]
    assert forms["PS"]["__row"].tolist() == [1, 2, 3]
    assert forms["DM"]["NAME"].fillna("").tolist() == ["Wang Wei", ""]


def test_dm_is_built_first_whatever_the_spec_order() -> None:
    study = SimpleNamespace(domains={"QS": 0, "AE": 0, "DM": 0})
    assert P._order(study) == ["DM", "QS", "AE"]
    assert P._order(SimpleNamespace(domains={"QS": 0, "AE": 0})) == ["QS", "AE"]


# ------------------------------------------------------------------ conform


def test_conform_orders_types_and_blanks_by_the_metadata(result) -> None:
    meta = result.meta["QS"]
    frame = pd.DataFrame(
        {
            "QSORRES": [1.5, np.nan, 2.0],  # numbers in a Char variable: their shortest text
            "EXTRA": [1, 2, 3],  # no variable of the metadata: left out
            "QSSEQ": pd.Series(
                ["1", "", "2.50"], dtype=object, index=[5, 6, 7]
            ),  # text in a Num variable
            "STUDYID": ["T1", None, "T1"],
        },
        index=[5, 6, 7],
    )
    out = P.conform(frame, meta)
    assert list(out.columns) == [v.name for v in meta.variables]
    assert out.index.tolist() == [0, 1, 2]
    assert out["QSORRES"].tolist() == ["1.5", "", "2"]
    assert out["QSSEQ"].tolist()[0] == 1.0 and np.isnan(out["QSSEQ"][1])
    assert out["QSSEQ"][2] == 2.5 and out["QSSEQ"].dtype == "float64"
    assert out["STUDYID"].tolist() == ["T1", "", "T1"]
    assert out["QSSTAT"].tolist() == ["", "", ""]  # absent from the frame: blank


def test_conform_reads_a_str_column_with_a_blank_as_numbers(result) -> None:
    frame = pd.DataFrame({"QSSEQ": ["3", ""]})  # pandas' own text dtype, not object
    out = P.conform(frame, result.meta["QS"])
    assert out["QSSEQ"][0] == 3.0 and np.isnan(out["QSSEQ"][1])


def test_conform_text_that_is_no_number_in_a_num_variable_is_an_error(result) -> None:
    with pytest.raises(InputError) as err:
        P.conform(pd.DataFrame({"QSSEQ": ["1", "two"]}), result.meta["QS"])
    assert str(err.value) == (
        "QS: record 2, column QSSEQ: QS.QSSEQ is numeric: expected a number (got 'two')"
    )
    # a number is read as core/values reads one: no infinity, no overflow, ASCII digits only
    for text in ("inf", "1e400", "８２"):
        with pytest.raises(InputError) as err:
            P.conform(pd.DataFrame({"QSSEQ": ["1", text]}), result.meta["QS"])
        assert str(err.value).endswith(f"expected a number (got {text!r})")
    out = P.conform(pd.DataFrame({"QSSEQ": [" 4 ", "  "]}), result.meta["QS"])
    assert out["QSSEQ"][0] == 4.0 and np.isnan(out["QSSEQ"][1])


def test_a_num_variable_mapped_from_text_names_the_raw_row(tmp_path) -> None:
    qs = QS.replace(
        "QSCAT: {hardcode: PS}", "QSCAT: {hardcode: PS}\n      QSSTRESN: {field: SCORE}"
    )
    raw = dict(RAW, **{"PS.csv": "SUBJID,PSNO,DONE,A,B\n002,1,Y,3,\n001,1,N,,\n001,2,Y,2,abc\n"})
    with pytest.raises(InputError) as err:
        _run(tmp_path, qs=qs, raw=raw)
    assert str(err.value) == (
        "PS.csv: row 3, column QSSTRESN: QS.QSSTRESN is numeric: expected a number (got 'abc')"
    )
    # blanks are missing values, numbers are numbers
    raw["PS.csv"] = raw["PS.csv"].replace("abc", "2.50")
    qs_data = _run(tmp_path / "b", qs=qs, raw=raw).data["QS"]
    assert qs_data["QSSTRESN"].tolist()[:3] == [2.0, 2.5, 3.0]
    assert np.isnan(qs_data["QSSTRESN"][3])


# ------------------------------------------------------------------ the result


def test_records_sorted_by_keys_and_numbered(result) -> None:
    qs = result.data["QS"]
    assert qs[["USUBJID", "QSTESTCD", "QSORRES", "QSSEQ"]].values.tolist() == [
        ["T1-001", "A", "2", 1.0],
        ["T1-001", "B", "2", 2.0],
        ["T1-002", "A", "3", 1.0],
        ["T1-002", "B", "1", 2.0],
    ]
    assert qs["QSGRPID"].tolist() == ["01", "01", "02", "02"]  # looked up in DM by subject


def test_lineage_names_each_records_raw_row_and_melted_field(result) -> None:
    lineage = result.lineage["QS"]
    assert lineage.to_dict("list") == {
        "form": ["PS"] * 4,
        "row": [3, 3, 1, 1],
        "item": ["A", "B", "A", "B"],
        "where": ["", "", "", ""],
    }
    assert result.lineage["DM"]["item"].tolist() == ["", ""]  # not a melted source


def test_looked_up_rows_per_record_with_the_join_key(result) -> None:
    assert result.looked_up["QS"].to_dict("list") == {
        "record": [0, 1, 2, 3],
        "form": ["DM"] * 4,
        "row": [1, 1, 2, 2],
        "key": ["SUBJID=001", "SUBJID=001", "SUBJID=002", "SUBJID=002"],
    }
    assert "DM" not in result.looked_up


def test_accounting_reconciles_rows_and_says_what_becomes_of_each_field(result) -> None:
    assert result.accounting == [
        {
            "form": "DM",
            "file": "DM.csv",
            "read": 2,
            "mapped": 2,
            "excluded": 0,
            "reasons": {},
            "fields": {
                "SUBJID": "read by DM.SUBJID, QS.QSGRPID",
                "SITE": "read by DM.SITEID, QS.QSGRPID",
                "NAME": "direct identifier, never output",
            },
        },
        {
            "form": "PS",
            "file": "PS.csv",
            "read": 3,
            "mapped": 2,
            "excluded": 1,
            "reasons": {"not done": 1},
            "fields": {
                "SUBJID": "read by QS.QSGRPID",
                "PSNO": "record key",
                "DONE": "read by QS (record filter)",
                "A": "read by QS (one record per field)",
                "B": "read by QS (one record per field)",
            },
        },
    ]


def test_unmatched_conditions_identifiers_and_ignored_files(result) -> None:
    # QSSTAT's when: {SCORE: NEVER} matched no record: reported with its line
    assert result.unmatched == ["spec/sdtm/qs.yaml:14: SCORE = 'NEVER'"]
    # the blank NAME of subject 002 is no identifier value
    assert result.identifier_values == {"Wang Wei"}
    assert result.ignored == [{"file": "notes.txt", "reason": "notes of the data manager"}]
    assert result.derived_from == {}
    assert not result.data["QS"].isin(["Wang Wei"]).any().any()


def _with_bl(bl: str) -> dict:
    qs = QS.replace(
        "QSGRPID: {field: DM.SITE}", "QSGRPID: {field: DM.SITE}\n      QSREFID: {field: BL.HT}"
    )
    return {"study": STUDY + BL_FORM, "qs": qs, "raw": dict(RAW, **{"BL.csv": bl})}


def test_a_row_read_only_by_a_look_up_is_mapped_when_a_record_found_it(tmp_path) -> None:
    result = _run(tmp_path, **_with_bl("SUBJID,HT\n002,170\n001,\n"))
    assert result.data["QS"]["QSREFID"].tolist() == ["", "", "170", "170"]
    bl = result.accounting[-1]
    assert (bl["form"], bl["read"], bl["mapped"], bl["excluded"]) == ("BL", 2, 2, 0)
    got = result.looked_up["QS"]
    assert got.loc[got["form"] == "BL", ["record", "row"]].values.tolist() == [
        [0, 2],
        [1, 2],
        [2, 1],
        [3, 1],
    ]


def test_a_row_no_record_maps_and_no_filter_excludes_is_an_error(tmp_path) -> None:
    # subject 009 has no QS record, so its BL row is read by no one
    with pytest.raises(InputError) as err:
        _run(tmp_path, **_with_bl("SUBJID,HT\n002,170\n009,180\n"))
    assert str(err.value) == (
        "BL.csv: row 2: record not mapped to any domain and not excluded with a reason"
    )
