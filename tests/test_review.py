"""out/index.html: computed from the run's ADaM files, self-contained, deterministic."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import lxml.html
import pandas as pd
import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.read.xpt import read_xpt
from cdisc_umsc.report.efficacy import efficacy_table
from cdisc_umsc.review import build_review, plots, render_review
from cdisc_umsc.review.summaries import lab_shifts


def _doc(out: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((out / "index.html").read_bytes())


def _cells(doc, table: str) -> list[dict]:
    return [
        {
            **{k[5:]: v for k, v in td.attrib.items() if k.startswith("data-")},
            "text": td.text_content(),
        }
        for td in doc.xpath(f'//td[@data-table="{table}"]')
    ]


@pytest.fixture(scope="module")
def page(bundled_run):
    result, out = bundled_run
    return result, out, _doc(out)


def test_run_writes_page_listed_in_manifest(page):
    result, out, _doc_ = page
    digest = hashlib.sha256((out / "index.html").read_bytes()).hexdigest()
    assert result.manifest["files"]["index.html"] == digest


def test_page_is_deterministic(page, tmp_path):
    result, out, _doc_ = page
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / "index.html").unlink()
    build_review(copy, result.manifest)
    assert (copy / "index.html").read_bytes() == (out / "index.html").read_bytes()
    assert render_review(copy, result.manifest) == render_review(copy, result.manifest)
    assert [p.name for p in copy.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_page_is_self_contained(page):
    _result, out, doc = page
    text = (out / "index.html").read_text(encoding="utf-8")
    assert doc.xpath("//script|//link|//img|//iframe|//object|//@src") == []
    assert (
        "default-src 'none'"
        in doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    )
    hrefs = doc.xpath("//a/@href")
    assert hrefs and all(not re.match(r"^[a-z]+:", h) for h in hrefs)  # relative links only
    assert all((out / h).is_file() for h in hrefs if not h.startswith("#"))
    assert "@import" not in text and "url(http" not in text and "<!DOCTYPE svg" not in text
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids))
    # PASITOT trajectories and mean change, rates by SEX and by ARM, the lab panel, AEs
    assert len(doc.xpath("//figure/*[local-name()='svg']")) == 6


def test_header_figures_equal_manifest(page):
    result, _out, doc = page
    m = result.manifest
    fig = {e.get("data-figure"): e.text_content() for e in doc.xpath("//*[@data-figure]")}
    read = sum(f["read"] for f in m["raw_forms"])
    assert fig["records-in"] == str(read) == "3042"
    assert fig["records-mapped"] == "3042" and fig["records-rejected"] == "0"
    for key, count in m["records"].items():
        assert fig[f"records-{key}"] == str(count)
    body = doc.text_content()
    for word in (
        m["study"],
        "SDTMIG 3.4",
        "ADaMIG 1.3",
        m["standards"]["ct"],
        f"cdisc-umsc {m['tool']['version']}",
    ):
        assert word in body


def test_efficacy_cells_equal_report_from_written_adqs(page):
    _result, out, doc = page
    adqs = read_xpt(out / "adam" / "adqs.xpt")[0]
    expected = efficacy_table(adqs, ("SEX", "ARM"), "FASFL")
    shown = {(c["endpoint"], c["group"], c["level"]): c for c in _cells(doc, "efficacy")}
    assert len(shown) == len(expected)
    for r in expected.itertuples(index=False):
        c = shown[(r.endpoint, r.group, r.level)]
        assert (int(c["resp"]), int(c["total"]), float(c["pct"])) == (r.n, r.N, r.pct)
    assert shown[("PASI40", "SEX", "M")]["text"] == "2/8 (25.0 %)"
    assert shown[("PGA 0/1", "Overall", "")]["text"] == "3/17 (17.6 %)"
    assert {k[0] for k in shown} >= {"PASI40", "PASI50", "PASI75", "PGA 0/1"}
    arms = [c for k, c in shown.items() if k[:2] == ("PASI40", "ARM")]
    assert sum(int(c["total"]) for c in arms) == 17


def test_pchg_table_equals_independent_means(page):
    _result, out, doc = page
    q = read_xpt(out / "adam" / "adqs.xpt")[0]
    obs = q[(q["PARAMCD"] == "PASITOT") & (q["DTYPE"] == "") & q["PCHG"].notna()]
    means = obs.groupby("AVISIT")["PCHG"].mean().round(1)
    rows = doc.xpath('//table[@id="pchg-adqs-pasitot"]/tbody/tr')
    assert {r[0].text_content() for r in rows} == {"Overall"}
    shown = {r[1].text_content(): float(r[4].text_content()) for r in rows}
    assert shown == means.to_dict() and len(shown) == 9
    assert shown["FOLLOW-UP MONTH 6"] < -40 < shown["INFUSION 2"]
    # nominal day: TV VISITDY where the design plans one, else the visit's median ADY
    tv = read_xpt(out / "sdtm" / "tv.xpt")[0].set_index("VISIT")["VISITDY"]
    observed = q[(q["PARAMCD"] == "PASITOT") & (q["DTYPE"] == "")]
    median = observed.groupby("AVISIT")["ADY"].median()
    expect = tv.reindex(median.index).fillna(median)
    days = {r[1].text_content(): float(r[2].text_content()) for r in rows}
    assert days == {v: expect[v] for v in shown}
    assert days == {
        "INFUSION 2": 16.0,
        "INFUSION 3": 31.0,
        "INFUSION 4": 46.0,
        "FOLLOW-UP DAY 15": 58.0,
        "FOLLOW-UP DAY 30": 74.0,
        "FOLLOW-UP DAY 45": 90.0,
        "FOLLOW-UP MONTH 2": 104.0,
        "FOLLOW-UP MONTH 3": 132.0,
        "FOLLOW-UP MONTH 6": 222.0,
    }


def test_lab_panel_table_and_baseline_treg(page):
    _result, _out, doc = page
    cells = {(c["paramcd"], c["group"], c["stat"]): c for c in _cells(doc, "labs")}
    assert {k[0] for k in cells} == {"TLHRTLH", "TH17TH", "TLHNTH", "TLHMTH", "INTLK17"}
    assert cells[("TLHRTLH", "Responders", "N")]["text"] == "8"
    resp = float(cells[("TLHRTLH", "Responders", "baseline_median")]["value"])
    non = float(cells[("TLHRTLH", "Non-responders", "baseline_median")]["value"])
    assert resp < non
    assert cells[("INTLK17", "Responders", "change_median")]["text"].startswith("-")


def _max_severity(ae: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Independent reference: subjects per ``by`` group at their highest AESEV (CT C66769
    grades MILD 1 < MODERATE 2 < SEVERE 3)."""
    grade = ae["AESEV"].map({"MILD": 1, "MODERATE": 2, "SEVERE": 3})
    worst = ae.assign(grade=grade).groupby([*by, "USUBJID"])["grade"].max().reset_index()
    return worst.groupby([*by, "grade"]).size().unstack(fill_value=0)


def test_ae_table_counts_subjects_once_at_max_severity(page):
    _result, out, doc = page
    ae = read_xpt(out / "adam" / "adae.xpt")[0]
    adsl = read_xpt(out / "adam" / "adsl.xpt")[0]
    safety = adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"]
    te = ae[(ae["TRTEMFL"] == "Y") & ae["USUBJID"].isin(safety)]
    cells = {(c["soc"], c["pt"], c["severity"]): c for c in _cells(doc, "ae")}
    events = {(c["soc"], c["pt"]): int(c["text"]) for c in _cells(doc, "ae-events")}
    grades = {"MILD": 1, "MODERATE": 2, "SEVERE": 3}
    n = len(safety)
    assert n == 17
    overall = _max_severity(te.assign(all=""), ["all"]).loc[""]
    for sev, g in grades.items():
        got = int(cells[("Any adverse event", "", sev)]["subjects"])
        assert got == int(overall.get(g, 0))
    # exact figures: 10 subjects, 7 at most MILD + 3 at most MODERATE (not 9 + 3), 16 events
    row = {sev: cells[("Any adverse event", "", sev)]["text"] for sev in [*grades, "Any"]}
    assert row == {
        "MILD": "7 (41.2 %)",
        "MODERATE": "3 (17.6 %)",
        "SEVERE": "0",
        "Any": "10 (58.8 %)",
    }
    assert events[("Any adverse event", "")] == len(te) == 16
    by_soc = _max_severity(te, ["AEBODSYS"])
    by_pt = _max_severity(te, ["AEBODSYS", "AEDECOD"])
    for (soc, pt), ref in [
        *(((s, ""), r) for s, r in by_soc.iterrows()),
        *(((s, p), r) for (s, p), r in by_pt.iterrows()),
    ]:
        for sev, g in grades.items():
            assert int(cells[(soc, pt, sev)]["subjects"]) == int(ref.get(g, 0)), (soc, pt, sev)
        assert int(cells[(soc, pt, "Any")]["subjects"]) == int(ref.sum())
    assert {(s, p) for s, p, _v in cells} == {("Any adverse event", "")} | {
        (s, "") for s in by_soc.index
    } | set(by_pt.index)
    # a subject with a MILD and a MODERATE URTI counts once, under MODERATE
    urti = ("Infections and infestations", "Upper respiratory tract infection")
    assert [cells[(*urti, v)]["text"] for v in [*grades, "Any"]] == [
        "1 (5.9 %)",
        "1 (5.9 %)",
        "0",
        "2 (11.8 %)",
    ]
    # rows: any event, then SOCs by decreasing subjects (ties by name), PTs under their SOC
    heads = [r[0].text_content() for r in doc.xpath('//table[@id="ae-table"]/tbody/tr')]
    assert heads[:7] == [
        "Any adverse event",
        "General disorders and administration site conditions",
        "Pyrexia",
        "Fatigue",
        "Nervous system disorders",
        "Headache",
        "Dizziness",
    ]
    caption = doc.xpath('//table[@id="ae-table"]/caption')[0].text_content()
    assert "source adam/ADAE" in caption and "N=17" in caption and "TRTEMFL = Y" in caption


def _ae_frame(rows: list[tuple[str, str, str, str]], **extra: list) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["USUBJID", "AEBODSYS", "AEDECOD", "AESEV"])
    return frame.assign(**extra)


_ADSL = pd.DataFrame({"USUBJID": ["1", "2", "3", "4"], "SAFFL": ["Y", "Y", "Y", "N"]})


def _ae_got(table: pd.DataFrame) -> dict:
    return {
        (r.soc, r.pt, str(r.severity)): (r.subjects, r.events)
        for r in table.itertuples(index=False)
    }


def test_ae_counts_ties_missing_severity_and_safety_set():
    from cdisc_umsc.review.summaries import MISSING, ae_counts

    ae = _ae_frame(
        [
            ("1", "Skin", "Rash", "MILD"),
            ("1", "Skin", "Rash", "MILD"),  # a tie: two events at the same maximum
            ("1", "Skin", "Itch", "SEVERE"),
            ("2", "Skin", "Rash", ""),  # no severity, but a MODERATE one in the SOC
            ("2", "Skin", "Itch", "MODERATE"),
            ("3", "Nerves", "Headache", ""),  # only unrated events
            ("4", "Nerves", "Headache", "SEVERE"),  # outside the safety set
        ]
    )
    table, n = ae_counts(ae, _ADSL, "sdtm/AE")
    assert n == 3
    got = _ae_got(table)
    assert got == {
        ("Any adverse event", "", "MILD"): (0, 2),
        ("Any adverse event", "", "MODERATE"): (1, 1),
        ("Any adverse event", "", "SEVERE"): (1, 1),
        ("Any adverse event", "", MISSING): (1, 2),
        ("Any adverse event", "", "Any"): (3, 6),
        ("Skin", "", "MILD"): (0, 2),
        ("Skin", "", "MODERATE"): (1, 1),
        ("Skin", "", "SEVERE"): (1, 1),
        ("Skin", "", MISSING): (0, 1),
        ("Skin", "", "Any"): (2, 5),
        ("Skin", "Itch", "MODERATE"): (1, 1),
        ("Skin", "Itch", "SEVERE"): (1, 1),
        ("Skin", "Itch", "Any"): (2, 2),
        ("Skin", "Rash", "MILD"): (1, 2),
        ("Skin", "Rash", MISSING): (1, 1),
        ("Skin", "Rash", "Any"): (2, 3),
        ("Nerves", "", MISSING): (1, 1),
        ("Nerves", "", "Any"): (1, 1),
        ("Nerves", "Headache", MISSING): (1, 1),
        ("Nerves", "Headache", "Any"): (1, 1),
    }
    # display order: any event, Skin (2 subjects) before Nerves (1); Itch before Rash (tie)
    order = list(dict.fromkeys(zip(table["soc"], table["pt"], strict=True)))
    assert order == [
        ("Any adverse event", ""),
        ("Skin", ""),
        ("Skin", "Itch"),
        ("Skin", "Rash"),
        ("Nerves", ""),
        ("Nerves", "Headache"),
    ]
    assert list(table["severity"].cat.categories) == ["MILD", "MODERATE", "SEVERE", MISSING, "Any"]
    # rows of one subject per row add up: each subject once per row
    per_row = table[table["severity"] != "Any"].groupby(["soc", "pt"])["subjects"].sum()
    anyrow = table[table["severity"] == "Any"].set_index(["soc", "pt"])["subjects"]
    assert per_row.sort_index().to_dict() == anyrow.sort_index().to_dict()


def test_ae_counts_rank_by_asevn_and_only_treatment_emergent():
    from cdisc_umsc.review.summaries import ae_analysed, ae_counts

    # ADaM ASEV with ASEVN: the data's order wins (here a sponsor scale, not CT words)
    ae = pd.DataFrame(
        {
            "USUBJID": ["1", "1", "2", "2"],
            "AESOC": ["Skin"] * 4,
            "AEDECOD": ["Rash"] * 4,
            "ASEV": ["GRADE B", "GRADE A", "GRADE A", "GRADE B"],
            "ASEVN": [1, 2, 2, 1],
            "TRTEMFL": ["Y", "Y", "", "Y"],
        }
    )
    table, n = ae_counts(ae, _ADSL, "adam/ADAE")
    got = _ae_got(table)
    assert got[("Any adverse event", "", "GRADE A")] == (1, 1)
    assert got[("Any adverse event", "", "GRADE B")] == (1, 2)
    assert got[("Skin", "Rash", "Any")] == (2, 3)
    assert list(table["severity"].cat.categories) == ["GRADE B", "GRADE A", "Any"]
    _data, _n, excluded = ae_analysed(ae, _ADSL, "adam/ADAE")
    assert excluded == {
        "not treatment-emergent (TRTEMFL is not Y)": 1,
        "of subjects outside the safety set (SAFFL is not Y)": 0,
    }


def test_ae_severity_without_an_order_is_one_line_error():
    from cdisc_umsc.review.summaries import ae_counts

    ae = _ae_frame([("1", "Skin", "Rash", "MILD"), ("1", "Skin", "Rash", "VERY BAD")])
    with pytest.raises(
        InputError, match=r"^sdtm/AE: AESEV 'VERY BAD' is not a term of codelist C66769"
    ):
        ae_counts(ae, _ADSL, "sdtm/AE")
    ae = _ae_frame([("1", "Skin", "Rash", "MILD"), ("2", "Skin", "Rash", "MILD")], AESEVN=[1, 2])
    with pytest.raises(
        InputError,
        match=r"^ADAE: AESEV 'MILD' has AESEVN 1 and 2; AESEVN must rank each AESEV once$",
    ):
        ae_counts(ae, _ADSL, "ADAE")


def test_ae_counts_without_body_system_or_severity():
    from cdisc_umsc.review.summaries import ae_counts

    ae = pd.DataFrame({"USUBJID": ["1", "1", "2"], "AETERM": ["a", "b", "c"]})
    adsl = pd.DataFrame({"USUBJID": ["1", "2", "3"], "SAFFL": ["Y", "Y", "N"]})
    table, n = ae_counts(ae, adsl, "sdtm/AE")
    got = {k[:2] + (k[2],): v for k, v in _ae_got(table).items()}
    assert n == 2 and got[("(missing)", "(missing)", "(missing)")] == (2, 3)
    assert got[("Any adverse event", "", "Any")] == (2, 3)


def test_lab_shifts_count_subjects_at_worst_post_baseline(page):
    _result, out, doc = page
    lb = read_xpt(out / "adam" / "adlb.xpt")[0]
    cells = _cells(doc, "shift")
    shown = {(c["paramcd"], c["from"], c["to"]): int(c["text"]) for c in cells}
    # independent: per subject and parameter, BNRIND vs the worst post-baseline ANRIND
    post = lb[lb["ADT"] > lb["TRTSDT"]]
    abnormal = post[post["ANRIND"] != "NORMAL"].groupby(["USUBJID", "PARAMCD"])["ANRIND"]
    worst = abnormal.agg(lambda s: " and ".join(sorted(set(s), reverse=True)))
    subj = lb.groupby(["USUBJID", "PARAMCD"])["BNRIND"].first().to_frame()
    subj["worst"] = worst.reindex(subj.index).fillna("NORMAL")
    expect = subj.groupby(["PARAMCD", "BNRIND", "worst"]).size()
    for (paramcd, frm, to), k in expect.items():
        assert shown[(paramcd, frm, to)] == k
    assert sum(v for (p, f, t), v in shown.items() if t != "Total") == expect.sum() == 16 * 17
    assert sum(shown[(p, f, "Total")] for p, f, t in shown if t == "Total") == 16 * 17
    il17 = {(f, t): v for (p, f, t), v in shown.items() if p == "INTLK17" and t != "Total"}
    assert il17 == {
        ("HIGH", "LOW"): 0,
        ("HIGH", "NORMAL"): 0,
        ("HIGH", "HIGH"): 15,
        ("NORMAL", "LOW"): 0,
        ("NORMAL", "NORMAL"): 2,
        ("NORMAL", "HIGH"): 0,
    }
    treg = {(f, t): v for (p, f, t), v in shown.items() if p == "TLHRTLH" and t != "Total"}
    assert treg[("LOW", "LOW")] == 1 and treg[("LOW", "NORMAL")] == 3
    assert treg[("NORMAL", "NORMAL")] == 13
    # a subject with 3 post-baseline records counts once: records far outnumber subjects
    assert len(post[post["PARAMCD"] == "INTLK17"]) > 17


def _lb(rows: list[tuple[str, str, str, str, float]], bnrind: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["USUBJID", "ANRIND", "BNRIND", "ABLFL", "ADT"])
    frame = frame.assign(PARAMCD="ALT", PARAM="ALT (U/L)", TRTSDT=2.0)
    return frame if bnrind else frame.drop(columns="BNRIND")


def test_lab_shifts_worst_category_per_subject():
    from cdisc_umsc.review.summaries import MISSING, NO_POST

    lb = _lb(
        [
            ("1", "NORMAL", "LOW", "Y", 1.0),  # baseline
            ("1", "HIGH", "LOW", "", 5.0),
            ("1", "HIGH", "LOW", "", 6.0),  # the same worst twice: one subject
            ("1", "NORMAL", "LOW", "", 7.0),
            ("2", "NORMAL", "NORMAL", "Y", 2.0),  # baseline on day 1: not post-baseline
            ("2", "LOW", "NORMAL", "", 3.0),
            ("2", "HIGH", "NORMAL", "", 4.0),  # both directions reached
            ("3", "NORMAL", "NORMAL", "Y", 1.0),  # no post-baseline record
            ("4", "NORMAL", "NORMAL", "Y", 1.0),
            ("4", "", "NORMAL", "", 5.0),  # a post-baseline record without a category
            ("5", "NORMAL", "NORMAL", "Y", 1.0),
            ("5", "", "NORMAL", "", 5.0),  # unrated does not hide the NORMAL one
            ("5", "NORMAL", "NORMAL", "", 6.0),
        ]
    )
    got = lab_shifts(lb).set_index(["BNRIND", "worst"])["subjects"].to_dict()
    assert got == {
        ("LOW", "HIGH"): 1,
        ("NORMAL", "LOW and HIGH"): 1,
        ("NORMAL", NO_POST): 1,
        ("NORMAL", MISSING): 1,
        ("NORMAL", "NORMAL"): 1,
    }


def test_lab_shifts_baseline_from_ablfl_without_bnrind():
    from cdisc_umsc.review.summaries import MISSING

    lb = _lb(
        [
            ("1", "LOW", "", "Y", 1.0),
            ("1", "HIGH", "", "", 5.0),
            ("2", "NORMAL", "", "", 5.0),  # no baseline record
        ],
        bnrind=False,
    )
    got = lab_shifts(lb).set_index(["BNRIND", "worst"])["subjects"].to_dict()
    assert got == {("LOW", "HIGH"): 1, (MISSING, "NORMAL"): 1}
    clash = _lb([("1", "LOW", "LOW", "Y", 1.0), ("1", "HIGH", "HIGH", "", 5.0)])
    with pytest.raises(InputError, match=r"^ADLB: USUBJID 1, PARAMCD ALT has BNRIND 'LOW' and"):
        lab_shifts(clash)


def test_visit_days_planned_then_median_study_day():
    from cdisc_umsc.review.summaries import visit_days

    records = pd.DataFrame(
        {
            "AVISITN": [1.0, 2.0, 2.0, 3.0, 3.0, 3.0],
            "AVISIT": ["SCREENING", "WEEK 2", "WEEK 2", "FOLLOW-UP", "FOLLOW-UP", "FOLLOW-UP"],
            "ADY": [-3.0, 15.0, 13.0, 40.0, 60.0, 61.0],
        }
    )
    tv = pd.DataFrame(
        {
            "VISITNUM": [1.0, 2.0, 3.0],
            "VISIT": ["SCREENING", "WEEK 2", "FOLLOW-UP"],
            "VISITDY": [-7.0, 14.0, float("nan")],  # follow-up: no single planned day
        }
    )
    got = visit_days(records, tv)
    assert got[["AVISIT", "day", "source"]].values.tolist() == [
        ["SCREENING", -7.0, "VISITDY"],
        ["WEEK 2", 14.0, "VISITDY"],
        ["FOLLOW-UP", 60.0, "ADY"],
    ]
    # without TV: the median study day of each visit
    assert visit_days(records)["day"].tolist() == [-3.0, 14.0, 60.0]
    # a TV visit of another number is not this analysis visit
    assert visit_days(records, tv.assign(VISITNUM=[9.0, 2.0, 3.0]))["source"].tolist() == [
        "ADY",
        "VISITDY",
        "ADY",
    ]
    # no study day for some visit: every visit at its AVISITN, no mixed axis
    nody = records.assign(ADY=[float("nan")] * 6)
    assert visit_days(nody, tv)[["day", "source"]].values.tolist() == [
        [1.0, "AVISITN"],
        [2.0, "AVISITN"],
        [3.0, "AVISITN"],
    ]


def test_plots_place_visits_at_nominal_days():
    from cdisc_umsc.review.summaries import pchg_by_visit, visit_days

    traj = pd.DataFrame(
        {
            "USUBJID": ["1", "1", "1", "2", "2", "2"],
            "AVISITN": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0],
            "AVISIT": ["DAY 1", "DAY 8", "DAY 90"] * 2,
            "ADY": [1.0, 8.0, 88.0, 1.0, 9.0, 92.0],
            "AVAL": [10.0, 8.0, 5.0, 12.0, 9.0, 6.0],
            "PCHG": [float("nan"), -20.0, -50.0, float("nan"), -25.0, -50.0],
            "PARAM": "Score",
            "group": "Overall",
            "responder": [True] * 3 + [False] * 3,
        }
    )
    visits = visit_days(traj)
    fig = plots.spaghetti(traj, "Score", "", visits)
    ax = fig.axes[0]
    assert ax.get_xticks().tolist() == [1.0, 8.5, 90.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["DAY 1", "DAY 8", "DAY 90"]
    xs = sorted({float(x) for line in ax.get_lines() for x in line.get_xdata() if x == x})
    assert xs == [1.0, 8.5, 90.0]  # not 1, 2, 3: unequal gaps as the schedule has them
    fig = plots.mean_pchg(pchg_by_visit(traj), "PCHG (%)", {}, visits)
    assert fig.axes[0].get_xticks().tolist() == [1.0, 8.5, 90.0]


def test_plots_have_axis_labels_units_and_greyscale_contrast(page):
    _result, _out, doc = page
    spaghetti = doc.xpath('//figure[@id="fig-traj-adqs-pasitot"]')[0].text_content()
    assert "Analysis visit (AVISIT) at its nominal study day" in spaghetti
    assert "Study day" in spaghetti and "PASI Total Score (0-72), points" in spaghetti
    assert "PASI40 responder (n=8)" in spaghetti  # named by the parameter's first criterion
    pchg = doc.xpath('//figure[@id="fig-pchg-adqs-pasitot"]')[0].text_content()
    assert "Change from baseline in PASITOT (%)" in pchg
    assert "-40 % (PASI40), -50 % (PASI50), -75 % (PASI75), -90 % (PASI90)" in pchg
    assert "Interleukin 17 (ng/L)" in doc.xpath('//figure[@id="fig-labs-adlb"]')[0].text_content()

    def grey(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    assert abs(grey(plots.RESPONDER["color"]) - grey(plots.NON_RESPONDER["color"])) > 0.3
    assert plots.RESPONDER["linestyle"] != plots.NON_RESPONDER["linestyle"]


def test_validation_report_linked_only_when_present(page, tmp_path):
    _result, out, doc = page
    assert ("validation.html" in doc.xpath("//a/@href")) == (out / "validation.html").is_file()
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / "validation.html").unlink(missing_ok=True)
    build_review(copy)  # manifest read from the folder
    assert "validation.html" not in _doc(copy).xpath("//a/@href")
    assert "Validation report: not in this output folder" in _doc(copy).text_content()
    (copy / "validation.html").write_text("<html></html>", encoding="utf-8")
    build_review(copy)  # manifest read from the folder
    assert "validation.html" in _doc(copy).xpath("//a/@href")


def test_missing_adam_dataset_is_one_line_error(page, tmp_path):
    _result, out, _doc_ = page
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / "adam" / "adqs.xpt").unlink()
    with pytest.raises(InputError, match=r"adam: no adqs.xpt or adqs.json .*ADQS"):
        build_review(copy)
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(InputError, match="manifest.json: cannot read the run manifest"):
        build_review(tmp_path / "nowhere")


def test_page_from_dataset_json_run(tmp_path):
    from cdisc_umsc.run import run
    from tests.conftest import RAW, SPEC

    out = tmp_path / "out"
    run(SPEC, RAW, out, fmt="json")
    doc = _doc(out)
    hrefs = doc.xpath("//a/@href")
    assert "adam/adqs.json" in hrefs and not any(h.endswith(".xpt") for h in hrefs)
    shown = {(c["endpoint"], c["group"]): c["text"] for c in _cells(doc, "efficacy")}
    assert shown[("PASI40", "Overall")] == "8/17 (47.1 %)"


def test_a_study_without_efficacy_or_lab_datasets_gets_a_page(tmp_path):
    """A copy of the bundled spec without adam/adqs.yaml and adam/adlb.yaml runs; its page
    shows what the study has and says what it has not."""
    from cdisc_umsc.run import run
    from tests.conftest import RAW, SPEC

    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    (spec / "adam" / "adqs.yaml").unlink()
    result = run(spec, RAW, tmp_path / "out")
    assert result.manifest["review"]["endpoints"] == []
    text = _doc(tmp_path / "out").text_content()
    assert "the ADLB panel is not split by responders: the ADaM spec declares no dataset ADQS" in (
        text
    )
    assert "The ADaM spec declares no endpoints" in text
    cells = {
        (c["paramcd"], c["group"], c["stat"]): c for c in _cells(_doc(tmp_path / "out"), "labs")
    }
    assert {k[1] for k in cells} == {"All"} and cells[("TLHRTLH", "All", "N")]["text"] == "17"
    (spec / "adam" / "adlb.yaml").unlink()
    run(spec, RAW, tmp_path / "out2")
    text = _doc(tmp_path / "out2").text_content()
    assert "declares no laboratory panel" in text and "Adverse events" in text


def test_ae_counts_with_no_event_in_the_safety_set():
    """A study whose safety set had no adverse event gets the any-event row with 0 subjects
    (the page shows 0 (0.0 %) at each severity), not an error."""
    from cdisc_umsc.review import sections
    from cdisc_umsc.review.summaries import ANY, ANY_SOC, ae_counts

    ae = _ae_frame([("4", "Nerves", "Headache", "SEVERE")])  # subject 4 is outside SAFFL
    table, n = ae_counts(ae, _ADSL, "sdtm/AE")
    assert n == 3
    assert table.to_dict("records") == [
        {"soc": ANY_SOC, "pt": "", "severity": ANY, "subjects": 0, "events": 0, "pct": 0.0}
    ]
    html = sections._ae_table(ae, _ADSL, "sdtm/AE", None)
    assert html.count('data-soc="Any adverse event"') == 5  # MILD, MODERATE, SEVERE, any, events


def test_figures_laid_out_once_draw_as_matplotlib_does(monkeypatch):
    """savefig's first draw only lays the figure out (plots._Figure): the SVG is the one a
    plain matplotlib Figure gives, secondary axis and figure legend included."""
    from matplotlib.figure import Figure

    from cdisc_umsc.review.summaries import visit_days

    traj = pd.DataFrame(
        {
            "USUBJID": ["1", "1", "2", "2"],
            "AVISITN": [1.0, 2.0, 1.0, 2.0],
            "AVISIT": ["DAY 1", "WEEK 2"] * 2,
            "ADY": [1.0, 15.0, 1.0, 14.0],
            "AVAL": [10.0, 8.0, 12.0, 9.0],
            "PCHG": [float("nan"), -20.0, float("nan"), -25.0],
            "PARAM": "Score",
            "group": "Overall",
            "responder": [True, True, False, False],
        }
    )
    pairs = pd.DataFrame(
        {
            "USUBJID": ["1", "2"],
            "PARAMCD": "ALT",
            "PARAM": "Alanine aminotransferase (U/L)",
            "baseline": [20.0, 30.0],
            "last": [25.0, 28.0],
            "responder": [True, False],
        }
    )

    def svgs() -> list[str]:
        figs = [
            plots.spaghetti(traj, "Score", "PASI75", visit_days(traj)),
            plots.lab_panel(pairs, ("ALT",), {"ALT": "ALT"}, "PASI75"),
        ]
        return [plots.to_svg(fig, f"f{i}") for i, fig in enumerate(figs)]

    ours = svgs()
    monkeypatch.setattr(plots, "_Figure", Figure)
    assert ours == svgs()
