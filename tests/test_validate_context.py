"""What every check sees (validate/context.py): values as text, per-distinct-value work,
byte lengths, the Context's look-ups (IG, class, splits, SUPP parents, codelists) and hits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Codelist, Study, Term
from cdisc_umsc.validate import context as C
from cdisc_umsc.validate.context import Context, as_text, by_value, by_values, nbytes
from cdisc_umsc.validate.igmeta import study_from_ig


def ctx(frames: dict[str, pd.DataFrame], **study: object) -> Context:
    return Context(frames, dataclasses.replace(study_from_ig(frames), **study), "submission")


def test_as_text_numbers_missing_and_mixed() -> None:
    assert as_text(pd.Series([1.0, 2.5, np.nan, -0.0])).tolist() == ["1", "2.5", "", "-0"]
    assert as_text(pd.Series(["a", None, np.nan])).tolist() == ["a", "", ""]
    assert as_text(pd.Series(["a", 1], dtype=object)).tolist() == ["a", "1"]
    assert as_text(pd.Series(["a", None], dtype="string")).tolist() == ["a", ""]
    assert as_text(pd.Series([True, False])).tolist() == ["True", "False"]


def test_by_value_equals_the_direct_computation() -> None:
    few = pd.Series(["a", "b", "a", "a", None, "b"], index=[5, 4, 3, 2, 1, 0])
    out = by_value(few, lambda s: s.str.len())
    assert out.index.tolist() == [5, 4, 3, 2, 1, 0]
    assert out.tolist()[:4] == [1.0, 1.0, 1.0, 1.0] and np.isnan(out.iloc[4])
    pair = by_values(
        lambda f: f[0] + f[1], pd.Series(["a", "a", "b", "a"]), pd.Series(["x", "x", "y", "x"])
    )
    assert pair.tolist() == ["ax", "ax", "by", "ax"]
    distinct = by_values(lambda f: f[0] + f[1], pd.Series(["a", "b"]), pd.Series(["x", "y"]))
    assert distinct.tolist() == ["ax", "by"]


def test_nbytes_counts_utf8_and_missing_as_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    values = pd.Series(["abc", "\u00e9", "\u20ac", "", None])
    assert nbytes(values).tolist() == [3, 2, 3, 0, 0]
    monkeypatch.setattr(C, "BY_VALUE_ROWS", 2)  # the per-distinct-value path gives the same
    assert nbytes(values).tolist() == [3, 2, 3, 0, 0]


def test_frames_are_checked_and_keyed_case_insensitively() -> None:
    study = Study("S", "SDTMIG", "3.4", "2025-03-28")
    with pytest.raises(InputError, match="dataset ae: expected a pandas DataFrame, got list"):
        Context({"ae": []}, study, "submission")  # type: ignore[dict-item]
    with pytest.raises(InputError, match="column 0 is not a variable name"):
        Context({"AE": pd.DataFrame({0: [1]})}, study, "submission")
    with pytest.raises(InputError, match="dataset ae: given twice"):
        Context({"AE": pd.DataFrame(), "ae": pd.DataFrame()}, study, "submission")
    c = Context({"ae": pd.DataFrame({"A": [1]}, index=[7])}, study, "submission")
    assert list(c.datasets) == ["AE"] and c.datasets["AE"].index.tolist() == [0]


def test_adam_ig_places_and_judged_by() -> None:
    frames = {
        "ADSL": pd.DataFrame({"USUBJID": ["S-1"]}),
        "ADLB": pd.DataFrame({"PARAMCD": ["ALT"]}),
        "ADXX": pd.DataFrame({"USUBJID": ["S-1"]}),
        "LBCH": pd.DataFrame({"LBTESTCD": ["ALT"]}),
        "SUPPAE": pd.DataFrame({"RDOMAIN": ["AE"]}),
        "ZZ": pd.DataFrame({"X": [1]}),
    }
    c = ctx(frames)
    assert [c.is_adam(n) for n in frames] == [True, True, True, False, False, False]
    assert c.ig_dataset("ADSL") == ("ADaMIG", "1.3", "ADSL")
    assert c.ig_dataset("ADLB") == ("ADaMIG", "1.3", "BDS")
    assert c.ig_dataset("ADXX") is None
    assert c.ig_dataset("LBCH") == ("SDTMIG", "3.4", "LB")
    assert c.ig_dataset("SUPPAE") == ("SDTMIG", "3.4", "SUPPQUAL")
    assert c.ig_dataset("ZZ") is None and c.ig_rows("ZZ").empty
    assert c.domain_class("LBCH") == "Findings" and c.domain_class("ZZ") == ""
    assert c.judged_by("LBCH") == "SDTMIG 3.4"
    assert c.judged_by("LBCH", terminology=True) == "SDTMIG 3.4; SDTM CT 2025-03-28"
    assert c.judged_by("ADLB", terminology=True) == "ADaMIG 1.3; ADaM CT 2025-09-26"
    assert c.ig_var("ADSL", "TRT01P")["variable"] == "TRTxxP"
    assert Context.is_template("TRTxxP") and not Context.is_template("TRT01P")


def test_split_datasets_and_supp_parents() -> None:
    frames = {
        n: pd.DataFrame({"USUBJID": ["S-1"]})
        for n in ("LB", "LBCH", "LBHE", "LBXYZ", "SUPPLB", "SUPPLBCH", "QS", "QSCG")
    }
    c = ctx(frames)
    assert c.domain_datasets("LB") == ["LB", "LBCH", "LBHE"]
    assert c.domain_datasets("QS") == ["QS", "QSCG"]
    assert c.supp_parents("SUPPLBCH", "LB") == ["LBCH"]
    assert c.supp_parents("SUPPLB", "LB") == ["LB", "LBCH", "LBHE"]
    assert c.supp_parents("SUPPLB", "AE") == []


def test_seq_variable_and_unbundled_versions() -> None:
    frames = {
        "AE": pd.DataFrame({"AESEQ": [1.0]}),
        "ADAE": pd.DataFrame({"ASEQ": [1.0]}),
        "TA": pd.DataFrame({"X": [1]}),
    }
    c = ctx(frames, standard_version="3.2", ct_version="2010-01-01")
    assert (c.seq_var("AE"), c.seq_var("ADAE"), c.seq_var("TA")) == ("AESEQ", "ASEQ", None)
    assert c.sdtmig_version == "3.4" and c.sdtm_ct_version == "2025-03-28"
    assert c.ct_substituted
    assert not ctx(frames).ct_substituted


def test_codelists_study_first_then_cdisc_external_none() -> None:
    own = Codelist("C66742", "NY copy", False, (Term("Y"), Term("N"), Term("MAYBE")))
    c = ctx({"AE": pd.DataFrame({"A": [1]})}, codelists={"C66742": own})
    got = c.codelist("C66742")
    assert (got.id, got.name, got.values) == ("C66742", "NY copy", frozenset({"Y", "N", "MAYBE"}))
    cdisc = c.cdisc_codelist(got)
    assert cdisc.name == "NY" and cdisc.values == frozenset({"Y", "N", "NA", "U"})
    assert c.codelist("EXT:MedDRA:26.0") is None and c.codelist("CL.NONE") is None
    assert c.codelist("C66769").values == frozenset({"MILD", "MODERATE", "SEVERE"})


def test_hits_and_notes() -> None:
    mask = pd.Series([False, True, True])
    out = Context.hits(
        "AE", mask, "AETERM", pd.Series(["a", "b", "c"]), lambda: pd.Series(["x", "y", "z"])
    )
    assert out.values.tolist() == [["AE", 1, "AETERM", "b", "y"], ["AE", 2, "AETERM", "c", "z"]]
    called = []
    none = Context.hits("AE", np.zeros(3, bool), "V", "v", lambda: called.append(1))
    assert none.empty and called == [] and list(none.columns) == list(C.HIT_COLUMNS)
    assert Context.note("AE", "V", "v", "m").values.tolist() == [["AE", -1, "V", "v", "m"]]
    assert Context.note("AE", "V", "v", "m", row=4)["row"].tolist() == [4]


def test_memo_skip_and_rule_scopes() -> None:
    c = ctx({"AE": pd.DataFrame({"A": [1]})})
    calls = []
    assert c.memo(("k",), lambda: calls.append(1) or 5) == 5
    assert c.memo(("k",), lambda: calls.append(1) or 6) == 5 and calls == [1]
    c.skip("R")
    c.skip("R")
    assert c.skipped == {"R": 2}
    assert c.rule_applies("UMSC-SD0001", "AE")


def test_hasnans_memo_within_a_run() -> None:
    series = pd.Series(["a", None], dtype="string")
    with C.run_scope():
        assert C._hasnans(series) and C._hasnans(series)
    assert C._HASNANS.get() is None


def test_per_column_memo_within_a_run() -> None:
    frame = pd.DataFrame({"A": pd.Series(["x", None], dtype="str"), "N": [1.5, float("nan")]})
    calls: list[str] = []

    def count(series: pd.Series, what: str) -> pd.Series:
        return C.per_column(series, what, lambda: calls.append(what) or C._as_text(series))

    with C.run_scope():
        assert count(frame["A"], "t").tolist() == ["x", ""]
        assert count(frame["A"], "t").tolist() == ["x", ""]
        assert count(frame["N"], "t").tolist() == ["1.5", ""]
        assert count(frame["N"], "t").tolist() == ["1.5", ""]
        assert count(frame["N"].iloc[:1], "t").tolist() == ["1.5"]  # other memory: computed
        shared = C.as_text(frame["A"])
        shared.iloc[0] = "changed"  # a caller's change does not reach the memo
        assert C.as_text(frame["A"]).tolist() == ["x", ""]
        assert C.blank(frame["N"]).tolist() == [False, True]
    assert calls == ["t", "t", "t"]
    assert C._COLUMNS.get() is None
    assert count(frame["A"], "t").tolist() == ["x", ""] and len(calls) == 4  # outside: no memo


def test_text_codes_are_pandas_factorize_of_the_text() -> None:
    text = pd.Series(["b", "a", "b", "ä"], dtype=object)
    codes, uniques = C.text_codes(text)
    assert codes.tolist() == [0, 1, 0, 2] and uniques.tolist() == ["b", "a", "ä"]
    odd = pd.Series(["b", 1.5, "b"], dtype=object)  # not all text: pandas.factorize decides
    codes, uniques = C.text_codes(odd)
    assert codes.tolist() == [0, 1, 0] and uniques.tolist() == ["b", 1.5]
    assert C.nbytes(pd.Series(["ä", None, "ab"], dtype="str")).tolist() == [2, 0, 2]
    assert C.blank(pd.Series([" ", None, "x"], dtype="str")).tolist() == [True, True, False]
    mixed = pd.Series(["x", None], dtype=object, name="V")
    assert C.as_text(mixed).tolist() == ["x", ""]
    whole = pd.Series(["x", "y"], dtype=object, name="V")
    assert C.as_text(whole).tolist() == ["x", "y"] and C.as_text(whole).name == "V"


def _with_and_without_run_scope(fn):  # noqa: ANN001, ANN202
    """fn() outside a run (computed anew) and inside one (per-column memo): both the same."""
    plain = fn()
    with C.run_scope():
        first, again = fn(), fn()
    return plain, first, again


def test_duplicated_is_pandas_duplicated_with_missing_values_as_values() -> None:
    frame = pd.DataFrame(
        {
            "USUBJID": pd.Series(["S-1", "S-1", "S-2", "S-1", None, None], dtype="str"),
            "SEQ": [1.0, 1.0, 1.0, 2.0, np.nan, np.nan],
            "CAT": np.array(["A", "A", "A", "A", "B", "B"], dtype=object),
        }
    )
    want = frame.duplicated(subset=["USUBJID", "SEQ"], keep=False).tolist()
    assert want == [True, True, False, False, True, True]
    for got in _with_and_without_run_scope(lambda: C.duplicated(frame, ["USUBJID", "SEQ"])):
        assert got.tolist() == want
    among = np.array([True, False, True, True, True, True])
    got = C.duplicated(frame, ["USUBJID", "SEQ"], among=among)
    assert got.tolist() == [False, False, False, False, True, True]  # row 1 not among
    assert C.duplicated(frame, ["CAT"]).tolist() == [True] * 6


def test_row_keys_renumber_before_they_overflow() -> None:
    n = 70_000  # 70,000 ** 4 > 2 ** 62: the combined code is renumbered on the way
    base = pd.Series(np.arange(n).astype(str), dtype="str")
    frame = pd.DataFrame({"A": base, "B": base, "C": base, "D": base[::-1].to_numpy()})
    keys = C.row_keys(frame, ["A", "B", "C", "D"])
    assert len(np.unique(keys)) == n and keys.min() >= 0
    frame.loc[5, ["A", "B", "C", "D"]] = frame.loc[6, ["A", "B", "C", "D"]].to_numpy()
    assert np.flatnonzero(C.duplicated(frame, ["A", "B", "C", "D"])).tolist() == [5, 6]


def test_stripped_and_numbers_per_column() -> None:
    text = pd.Series([" 1.5", "2 ", "x", None, " 1.5"], dtype="str")
    for got in _with_and_without_run_scope(lambda: C.stripped(text)):
        assert got.tolist() == ["1.5", "2", "x", "", "1.5"]
    for got in _with_and_without_run_scope(lambda: C.numbers(text)):
        assert got.iloc[[0, 1, 4]].tolist() == [1.5, 2.0, 1.5] and got.iloc[[2, 3]].isna().all()
    assert C.numbers(pd.Series([1, 2])).dtype == np.dtype("float64")


def test_a_plain_text_column_is_factorized_once_for_codes_blanks_and_text() -> None:
    obj = pd.Series(["b", " ", "b", "a"], dtype=object)
    with C.run_scope():
        codes, uniques = C.factorized(obj)
        assert codes.tolist() == [0, 1, 0, 2] and uniques.tolist() == ["b", " ", "a"]
        assert uniques.dtype == object
        assert C.blank(obj).tolist() == [False, True, False, False]
    with_nan = pd.Series(["b", None, "b"], dtype="str")
    with C.run_scope():
        codes, uniques = C.factorized(with_nan)
        assert codes.tolist() == [0, 1, 0] and pd.isna(uniques[1])
