"""ADaM assembly and metadata (cdisc_umsc/adam/build.py)."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from cdisc_umsc.adam.build import adam_meta, build_adam
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import load_spec_file

DM = pd.DataFrame(
    {
        "STUDYID": "S",
        "USUBJID": ["S-1", "S-2"],
        "SUBJID": ["1", "2"],
        "AGE": [40.0, 50.0],
        "RFXSTDTC": ["2019-01-10", "2019-01-12T08:00"],
    }
)


def _spec(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec_file(path)


ADSL = """
dataset: ADSL
structure: ADSL
label: Subject-Level Analysis Dataset
keys: [STUDYID, USUBJID]
copy: [STUDYID, USUBJID, AGE, SUBJID]
variables:
  TRTSDTM: {datetime: RFXSTDTC}
  TRTSDT: {date: RFXSTDTC}
"""


def test_adsl_metadata_order_types_and_formats(tmp_path) -> None:
    data, meta = build_adam({"ADSL": _spec(tmp_path, "adsl", ADSL)}, {"DM": DM})
    m = meta["ADSL"]
    assert m.names[:3] == ["STUDYID", "USUBJID", "SUBJID"]  # identifiers first
    assert list(data["ADSL"].columns) == m.names
    assert (m.var("TRTSDT").format, m.var("TRTSDT").data_type) == ("DATE9.", "date")
    assert (m.var("TRTSDTM").format, m.var("TRTSDTM").data_type) == ("DATETIME20.", "datetime")
    assert m.var("AGE").origin == "Predecessor" and m.var("TRTSDT").origin == "Derived"
    assert m.var("TRTSDTM").label == "Datetime of First Exposure to Treatment"


def test_structure_and_unknown_variable_errors(tmp_path) -> None:
    with pytest.raises(InputError, match=r"adsl.yaml \(dataset: ADSL\) is required"):
        build_adam({}, {"DM": DM})
    bad = _spec(tmp_path, "adxx", "dataset: ADXX\nstructure: TTE\nlabel: X\nkeys: [USUBJID]\n")
    with pytest.raises(InputError, match="structure 'TTE' is not allowed here"):
        build_adam({"ADSL": _spec(tmp_path, "adsl", ADSL), "ADXX": bad}, {"DM": DM})
    text = ADSL + "  MYVAR: {hardcode: X}\n"
    spec = _spec(tmp_path, "adsl", text)
    line = text.splitlines().index("  MYVAR: {hardcode: X}") + 1
    with pytest.raises(InputError) as err:
        build_adam({"ADSL": spec}, {"DM": DM})
    # named at the line that derives it, with what to write
    assert str(err.value).endswith(
        f"adsl.yaml:{line}: MYVAR is not an ADaMIG 1.3 ADSL or ADSL variable; give its label "
        "under metadata: (MYVAR: {label: ...})"
    )
    spec = _spec(
        tmp_path,
        "adsl",
        ADSL + "  MYVAR: {hardcode: X}\nmetadata:\n  MYVAR: {label: My Variable}\n",
    )
    assert (
        adam_meta(spec, pd.DataFrame({"USUBJID": ["a"], "MYVAR": ["X"]}), {}).var("MYVAR").label
        == "My Variable"
    )


def test_derivation_argument_errors_become_input_errors(tmp_path) -> None:
    spec = _spec(tmp_path, "adsl", ADSL + "  FL: {flag: {when: {NOSUCH: Y}}}\n")
    with pytest.raises(InputError, match=r"adsl.yaml:\d+: when: no variable NOSUCH"):
        build_adam({"ADSL": spec}, {"DM": DM})


def test_unknown_spec_key_is_a_spec_error(tmp_path) -> None:
    spec = _spec(tmp_path, "adsl", ADSL + "varaibles: {}\n")
    with pytest.raises(
        InputError,
        match=r"adsl.yaml:\d+: unknown key 'varaibles' in an ADaM "
        r"ADSL spec",
    ):
        build_adam({"ADSL": spec}, {"DM": DM})


def test_adsl_order_is_adamig_then_study_specific(tmp_path) -> None:
    dm = DM.assign(ETHNIC="NOT HISPANIC OR LATINO", SEX=["F", "M"])
    text = ADSL.replace(
        "copy: [STUDYID, USUBJID, AGE, SUBJID]",
        "copy: [STUDYID, USUBJID, ETHNIC, AGE, SUBJID, SEX]",
    )
    text += "  MYVAR: {hardcode: X}\n  SAFFL: {hardcode: Y}\nmetadata:\n  MYVAR: {label: Mine}\n"
    data, meta = build_adam({"ADSL": _spec(tmp_path, "adsl", text)}, {"DM": dm})
    # ADaMIG 1.3 order (identifiers, AGE, SEX, SAFFL, TRTSDT, TRTSDTM), then the variables
    # ADaMIG 1.3 does not list for ADSL, in spec order
    assert meta["ADSL"].names == [
        "STUDYID",
        "USUBJID",
        "SUBJID",
        "AGE",
        "SEX",
        "SAFFL",
        "TRTSDT",
        "TRTSDTM",
        "ETHNIC",
        "MYVAR",
    ]
    assert list(data["ADSL"].columns) == meta["ADSL"].names
