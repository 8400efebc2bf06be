"""Known-findings lists (validate/explain.py): loading with one-line errors, and the most
specific matching row explaining each finding (by rule, CORE or P21 id)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.validate.explain import explanations, load_known


def findings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule": ["UMSC-CT0002", "UMSC-CT0002", "UMSC-CT0002", "UMSC-TS0001", "UMSC-SD0002"],
            "dataset": ["LB", "LB", "AE", "TS", "LB"],
            "variable": ["LBORRESU", "LBORRESU", "AEOUT", "TSPARMCD", "LBTESTCD"],
            "value": ["furlong", "cubit", "GONE", "TITLE", ""],
            "core_id": ["", "", "", "", "CORE-000356"],
            "p21_id": ["CT2002", "CT2002", "CT2002", "SD1226;SD2213", "SD0002"],
        }
    )


def known(tmp_path: Path, text: str) -> pd.DataFrame:
    path = tmp_path / "known.csv"
    path.write_text(text, encoding="utf-8")
    return load_known([path])


def test_most_specific_row_wins_and_cited_ids_match(tmp_path: Path) -> None:
    rows = known(
        tmp_path,
        "rule_id,dataset,variable,value,justification,count\n"
        "UMSC-CT0002,lb,,,any LB unit,3\n"
        "UMSC-CT0002,LB,LBORRESU,furlong,sponsor unit,1\n"
        "SD2213,TS,,,title in protocol,\n"
        "CORE-000356,LB,LBTESTCD,,tests pending,\n"
        "SD221,TS,,,never (a part of an id),\n",
    )
    assert rows["dataset"].tolist() == ["LB", "LB", "TS", "LB", "TS"]
    assert explanations(findings(), rows).tolist() == [
        "sponsor unit",
        "any LB unit",
        "",
        "title in protocol",
        "tests pending",
    ]


def test_no_known_list_explains_nothing(tmp_path: Path) -> None:
    assert explanations(findings(), None).tolist() == [""] * 5
    empty = known(tmp_path, "rule_id,dataset,justification\n")
    assert explanations(findings(), empty).tolist() == [""] * 5


def test_load_errors_name_file_and_row(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"known.csv: row 1: known-findings columns \['justification'\]"
    ):
        known(tmp_path, "rule_id,dataset\nR,AE\n")
    with pytest.raises(InputError, match="known.csv: row 3: rule_id and dataset must be given"):
        known(tmp_path, "rule_id,dataset,justification\nR,AE,x\n, AE ,y\n")
    with pytest.raises(InputError, match="cannot read the known-findings list"):
        load_known([tmp_path / "absent.csv"])
    (tmp_path / "latin.csv").write_bytes(b"rule_id,dataset,justification\nR,AE,caf\xe9\n")
    with pytest.raises(InputError, match="latin.csv: cannot read"):
        load_known([tmp_path / "latin.csv"])


def test_several_files_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("rule_id,dataset,justification\nR1,AE,a\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(
        "rule_id,dataset,justification,variable\n R2 ,dm, b ,USUBJID\n", encoding="utf-8"
    )
    rows = load_known([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert rows.values.tolist() == [["R1", "AE", "", "", "a"], ["R2", "DM", "USUBJID", "", "b"]]
