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
    shown = {r[1].text_content(): float(r[3].text_content()) for r in rows}
    assert shown == means.to_dict() and len(shown) == 9
    assert shown["FOLLOW-UP MONTH 6"] < -40 < shown["INFUSION 2"]


def test_lab_panel_table_and_baseline_treg(page):
    _result, _out, doc = page
    cells = {(c["paramcd"], c["group"], c["stat"]): c for c in _cells(doc, "labs")}
    assert {k[0] for k in cells} == {"TLHRTLH", "TH17TH", "TLHNTH", "TLHMTH", "INTLK17"}
    assert cells[("TLHRTLH", "Responders", "N")]["text"] == "8"
    resp = float(cells[("TLHRTLH", "Responders", "baseline_median")]["value"])
    non = float(cells[("TLHRTLH", "Non-responders", "baseline_median")]["value"])
    assert resp < non
    assert cells[("INTLK17", "Responders", "change_median")]["text"].startswith("-")


def test_ae_counts_equal_source_dataset(page):
    _result, out, doc = page
    source = "adam/ADAE" if (out / "adam" / "adae.xpt").is_file() else "sdtm/AE"
    ae = read_xpt(out / f"{source.split('/')[0]}/{source.split('/')[1].lower()}.xpt")[0]
    cells = {(c["soc"], c["severity"]): c for c in _cells(doc, "ae")}
    anyc = cells[("Any body system", "Any")]
    assert int(anyc["events"]) == len(ae) == 16
    assert int(anyc["subjects"]) == ae["USUBJID"].nunique()
    by_sev = ae.groupby("AESEV")["USUBJID"].nunique()
    for sev, n in by_sev.items():
        assert int(cells[("Any body system", sev)]["subjects"]) == n
    soc = "Nervous system disorders"
    assert int(cells[(soc, "Any")]["events"]) == int((ae["AEBODSYS"] == soc).sum())
    caption = doc.xpath('//table[@id="ae-table"]/caption')[0].text_content()
    assert f"source {source}" in caption


def test_lab_shifts_cover_every_post_baseline_record(page):
    _result, out, doc = page
    lb = read_xpt(out / "adam" / "adlb.xpt")[0]
    post = lb[lb["ADT"] > lb["TRTSDT"]]
    cells = _cells(doc, "shift")
    total = sum(int(c["text"]) for c in cells if c["to"] == "Total")
    assert total == len(post) > 0
    il17 = {(c["from"], c["to"]): int(c["text"]) for c in cells if c["paramcd"] == "INTLK17"}
    base = lb[(lb["PARAMCD"] == "INTLK17") & (lb["ABLFL"] == "Y")].set_index("USUBJID")
    p = post[post["PARAMCD"] == "INTLK17"]
    expect = pd.crosstab(p["USUBJID"].map(base["ANRIND"]), p["ANRIND"])
    for (frm, to), n in expect.stack().items():
        assert il17[(frm, to)] == n


def test_ae_counts_without_body_system_or_severity():
    from cdisc_umsc.review.summaries import ae_counts

    ae = pd.DataFrame({"USUBJID": ["1", "1", "2"], "AETERM": ["a", "b", "c"]})
    adsl = pd.DataFrame({"USUBJID": ["1", "2", "3"], "SAFFL": ["Y", "Y", "N"]})
    table, n = ae_counts(ae, adsl, "sdtm/AE")
    got = table.set_index(["soc", "severity"])[["subjects", "events"]].to_dict("index")
    assert n == 2 and got[("(missing)", "(missing)")] == {"subjects": 2, "events": 3}


def test_lab_shifts_use_bnrind_when_present():
    lb = pd.DataFrame(
        {
            "USUBJID": ["1", "1", "1"],
            "PARAMCD": "ALT",
            "PARAM": "ALT (U/L)",
            "ANRIND": ["NORMAL", "HIGH", ""],
            "BNRIND": ["LOW", "LOW", "LOW"],
            "ABLFL": ["Y", "", ""],
            "ADT": [1.0, 5.0, 6.0],
            "TRTSDT": 2.0,
        }
    )
    got = lab_shifts(lb).set_index(["BNRIND", "ANRIND"])["records"].to_dict()
    assert got == {("LOW", "HIGH"): 1, ("LOW", "(missing)"): 1}


def test_plots_have_axis_labels_units_and_greyscale_contrast(page):
    _result, _out, doc = page
    spaghetti = doc.xpath('//figure[@id="fig-traj-adqs-pasitot"]')[0].text_content()
    assert "Analysis visit (AVISIT)" in spaghetti and "PASI Total Score (0-72), points" in spaghetti
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
