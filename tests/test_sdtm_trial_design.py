"""Trial design domains (cdisc_umsc/sdtm/trial_design.py): TS coded values and their errors."""

from __future__ import annotations

import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.sdtm.check_spec import load_checked_spec
from cdisc_umsc.sdtm.pipeline import build_sdtm
from tests.conftest import RAW


def _line_of(path, text):
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return i
    raise AssertionError(text)


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_cdisc_coded_values_get_code_reference_and_version(bundled_run):
    result, _out = bundled_run
    ts = result.sdtm.data["TS"]
    one = ts[ts["TSSEQ"] == 1].set_index("TSPARMCD")
    coded = one.loc[one["TSVCDREF"] == "CDISC CT"]
    # NCI codes of the CDISC CT 2025-03-28 terms
    assert one.loc["TPHASE", ["TSVAL", "TSVALCD"]].tolist() == ["PHASE I/II TRIAL", "C15693"]
    assert one.loc["INTMODEL", "TSVALCD"] == "C142568" and one.loc["STYPE", "TSVALCD"] == "C98388"
    assert set(coded.loc[coded["TSVAL"] == "N", "TSVALCD"]) == {"C49487"}
    assert (coded["TSVCDVER"] == "2025-03-28").all()
    assert ts.loc[ts["TSPARMCD"] == "TTYPE", "TSVALCD"].tolist() == ["C49667", "C49666"]
    # other dictionaries: the code and the dictionary name (DICTNAM), no CT version
    assert one.loc["INDIC", ["TSVALCD", "TSVCDREF", "TSVCDVER"]].tolist() == [
        "200965009",
        "SNOMED",
        "",
    ]
    assert one.loc["FCNTRY", ["TSVAL", "TSVALCD", "TSVCDREF"]].tolist() == [
        "CHN",
        "CHN",
        "ISO 3166",
    ]
    # no value: TSVAL blank, TSVALNF the null flavor; uncoded text has no code
    assert one.loc["PCLAS", ["TSVAL", "TSVALNF", "TSVALCD"]].tolist() == ["", "NA", ""]
    assert one.loc["TITLE", ["TSVALCD", "TSVCDREF"]].tolist() == ["", ""]


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        (
            "TSVAL: PHASE I/II TRIAL, codelist: C66737}",
            "TSVAL: PHASE I/II TRIAL, codelist: C0000001}",
            "C0000001",
            "TS TPHASE: 'C0000001' is not a CDISC codelist of SDTM CT 2025-03-28",
        ),
        (
            "TSVAL: PHASE I/II TRIAL, codelist: C66737}",
            "TSVAL: PHASE 1/2, codelist: C66737}",
            "PHASE 1/2",
            "TS TPHASE: 'PHASE 1/2' is not a term of codelist TPHASE (C66737)",
        ),
        (
            "TSVAL: PHASE I/II TRIAL, codelist: C66737}",
            "TSVAL: PHASE I/II TRIAL, codelst: C66737}",
            "codelst",
            "unknown key 'codelst' in a TS record",
        ),
        (
            "TSVAL: PHASE I/II TRIAL, codelist: C66737}",
            "TSVAL: PHASE I/II TRIAL, codelist: C66737, TSVALCD: C15693}",
            "TSVALCD: C15693",
            "TS TPHASE: TSVALCD comes from codelist: (give one or the other)",
        ),
    ],
)
def test_ts_record_errors_name_the_spec_line(spec_copy, old, new, marker, message):
    path = spec_copy / "sdtm" / "trial_design.yaml"
    _edit(path, old, new)
    line = _line_of(path, marker)
    with pytest.raises(InputError) as exc:
        build_sdtm(load_checked_spec(spec_copy), RAW)
    assert str(exc.value).startswith(f"spec/sdtm/trial_design.yaml:{line}: {message}")


def test_a_coded_parameter_without_a_value_has_no_code(spec_copy):
    path = spec_copy / "sdtm" / "trial_design.yaml"
    _edit(path, "TSVAL: N, codelist: C66742}", "TSVAL: null, TSVALNF: UNK, codelist: C66742}")
    ts = build_sdtm(load_checked_spec(spec_copy), RAW).data["TS"]
    cols = ["TSVAL", "TSVALNF", "TSVALCD", "TSVCDREF", "TSVCDVER"]
    assert ts.loc[ts["TSPARMCD"] == "RANDOM", cols].iloc[0].tolist() == ["", "UNK", "", "", ""]
    # the other records of the codelist keep their codes
    hlt = ts.loc[ts["TSPARMCD"] == "HLTSUBJI", cols].iloc[0].tolist()
    assert hlt == ["N", "", "C49487", "CDISC CT", "2025-03-28"]
