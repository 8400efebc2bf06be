"""The validation run (validate/engine.py): which datasets each rule runs on, the hit tables
turned into findings (1-based rows, USUBJID and --SEQ of the record), severities under the
profiles, the executed-rules table, and a failing check named by rule and dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.validate import engine, validate_study
from cdisc_umsc.validate.catalogue import rule
from cdisc_umsc.validate.engine import ValidationError
from cdisc_umsc.validate.igmeta import study_from_ig


def frames() -> dict[str, pd.DataFrame]:
    return {
        "DM": pd.DataFrame({"STUDYID": "S", "DOMAIN": "DM", "USUBJID": ["S-1", "S-2"]}),
        "AE": pd.DataFrame(
            {
                "STUDYID": "S",
                "DOMAIN": "AE",
                "USUBJID": ["S-1", "S-2", "S-2"],
                "AESEQ": [1.0, 7.0, 7.0],
                "AETERM": ["HEADACHE", "", "RASH"],
            }
        ),
        "ADSL": pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1"], "TRT01P": "A"}),
    }


@pytest.fixture(scope="module")
def found():
    data = frames()
    return validate_study(data, study_from_ig(data))


def test_record_findings_carry_subject_seq_and_1_based_row(found) -> None:
    f = found.of("UMSC-SD0009")
    assert f[["dataset", "usubjid", "seq", "row", "variable", "value"]].values.tolist() == [
        ["AE", "S-2", 7.0, 2, "AESEQ", "7"],
        ["AE", "S-2", 7.0, 3, "AESEQ", "7"],
    ]
    assert (
        f["message"].tolist()
        == ["Sequence number is not unique within USUBJID: AESEQ repeats within USUBJID=S-2"] * 2
    )
    assert f["citation"].iloc[0] == rule("UMSC-SD0009").citation
    assert f["core_id"].iloc[0] == "CORE-000544" and f["p21_id"].iloc[0] == "SD0005"
    assert f["standard"].iloc[0] == "SDTMIG 3.4"


def test_dataset_level_findings_have_no_row_subject_or_seq(found) -> None:
    f = found.of("UMSC-SD0001")
    assert set(f["dataset"]) == {"ADSL", "AE", "DM"}
    assert f["row"].isna().all() and (f["usubjid"] == "").all() and f["seq"].isna().all()


def test_rules_run_only_on_the_standard_they_apply_to(found) -> None:
    assert rule("UMSC-AD0001").applies == "adam"
    assert found.of("UMSC-AD0001")[["dataset", "row"]].values.tolist() == [["ADSL", 1], ["ADSL", 2]]
    assert found.of("UMSC-AD0001")["standard"].tolist() == ["ADaMIG 1.3"] * 2
    assert "ADSL" not in set(found.of("UMSC-SD0003")["dataset"])  # sdtm only
    table = found.executed.set_index("rule")
    assert table.loc["UMSC-AD0001", ["datasets", "findings", "status"]].tolist() == [1, 2, "fail"]
    assert table.loc["UMSC-SD0009", ["datasets", "findings", "status"]].tolist() == [3, 2, "fail"]
    assert table.loc["UMSC-XD0002", "status"] == "pass"  # no SUPP-- yet run on every SDTM one
    assert table.loc["UMSC-MD0005", ["datasets", "status"]].tolist() == [1, "pass"]


def test_skipped_datasets_are_not_applicable() -> None:
    data = {"DM": frames()["DM"]}
    table = validate_study(data, study_from_ig(data)).executed.set_index("rule")
    declared = [r for r in table.index if r.startswith("UMSC-PSD0009")]
    assert table.loc[declared[0], ["datasets", "status"]].tolist() == [0, "not applicable"]
    assert table.loc["UMSC-AD0001", ["datasets", "status"]].tolist() == [0, "not applicable"]


def test_development_profile_and_unknown_profile() -> None:
    data = frames()
    dev = validate_study(data, study_from_ig(data), profile="development")
    assert set(dev.of("UMSC-SD0003")["severity"]) == {"notice"}
    assert set(dev.executed.set_index("rule").loc[["UMSC-SD0003"], "severity"]) == {"notice"}
    with pytest.raises(Exception, match="unknown validation profile 'strict'"):
        validate_study(data, study_from_ig(data), profile="strict")


def test_a_failing_check_names_rule_and_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    real = engine.all_checks()

    def broken(ctx, name, frame, meta):
        raise KeyError("XYZ")

    monkeypatch.setattr(engine, "all_checks", lambda: real | {"UMSC-SD0009": broken})
    data = frames()
    with pytest.raises(
        ValidationError, match=r"rule UMSC-SD0009 failed on dataset ADSL: KeyError: 'XYZ'"
    ):
        validate_study(data, study_from_ig(data))


def test_no_findings_still_lists_every_rule() -> None:
    found = validate_study({}, study_from_ig({}))
    assert len(found) == 0
    assert len(found.executed) == len(engine.catalogue.rules())
    assert set(found.executed["findings"]) == {0}


def test_subject_columns_use_the_seq_variable_and_skip_notes() -> None:
    data = frames()
    study = study_from_ig(data)
    ctx = engine.Context(data, study, "submission")
    hits = pd.DataFrame(
        {
            "dataset": ["AE", "AE", "DM", "ZZ"],
            "row": np.array([2, -1, 1, 0]),
            "variable": "",
            "value": "",
            "message": "",
        }
    )
    out = engine._subject_columns(ctx, hits)
    assert out["usubjid"].tolist() == ["S-2", "", "S-2", ""]
    assert out["seq"].tolist()[0] == 7.0 and np.isnan(out["seq"].tolist()[1:]).all()
    assert out["row"].astype(object).tolist() == [3, pd.NA, 2, 1]
