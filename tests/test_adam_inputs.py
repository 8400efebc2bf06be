"""Stand-alone derivation inputs (cdisc_umsc/adam/inputs.py): spec folder, SDTM folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdisc_umsc.adam.inputs import SdtmFolder, load_adam_specs
from cdisc_umsc.core.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def test_specs_from_study_folder_or_adam_folder(tmp_path) -> None:
    specs = load_adam_specs(ROOT / "mappings" / "umsc")
    assert sorted(specs) == ["ADAE", "ADLB", "ADQS", "ADSL"]
    assert sorted(load_adam_specs(ROOT / "mappings" / "cdiscpilot01")) == ["ADLBC", "ADSL"]
    with pytest.raises(InputError, match="no ADaM spec files"):
        load_adam_specs(tmp_path)
    (tmp_path / "a.yaml").write_text("dataset: ADSL\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("dataset: ADSL\n", encoding="utf-8")
    with pytest.raises(InputError, match="dataset ADSL is also declared in"):
        load_adam_specs(tmp_path)


def test_sdtm_folder_reads_on_demand(bundled_run, tmp_path) -> None:
    _result, out = bundled_run
    folder = SdtmFolder(out / "sdtm")
    assert "DM" in list(folder) and len(folder) >= 10
    dm = folder["dm"]
    assert len(dm) == 17 and dm["USUBJID"].str.startswith("CSU-UMSC-PSO-").all()
    assert folder["DM"] is dm  # read once
    with pytest.raises(
        InputError, match=r"no xx.xpt, .json or .ndjson \(the ADaM spec reads domain XX\)"
    ):
        folder["XX"]
    with pytest.raises(InputError, match="SDTM folder not found"):
        SdtmFolder(tmp_path / "nope")
