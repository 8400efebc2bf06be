"""What a study's reports show, from its ADaM spec: endpoints, groupings, plotted parameters and
laboratory panels. The generic report and review code read this plan and know no study.

A BDS spec with ``criteria:`` and ``primary:`` declares endpoints; its optional ``review:``
block says how they are shown::

    review:
      by: [TRT01P, SEX]          # ADSL variables (carried by adsl:) the tables are split by
      compare: TRT01P            # the plots' mean change: one line per level (default: overall)
      plot: [TOTSCORE]           # parameters plotted per subject over the analysis visits

and a BDS spec may declare a laboratory panel (medians at baseline and the last visit, by
responder status of one endpoint)::

    review:
      parameters: {CRP: C-reactive protein}         # PARAMCD: short name
      responders: {dataset: ADEFF, PARAMCD: TOTSCORE, CRIT: 1}

A BDS spec with ``ranges:`` gets a shift table (baseline to post-baseline range category).
The plan is plain data (it is written into the run's manifest, so a page can be rebuilt from
an output folder alone).
"""

from __future__ import annotations

from collections.abc import Mapping

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import SpecMap

REVIEW_KEYS = frozenset({"by", "compare", "plot", "parameters", "responders"})


def _names(review: SpecMap, key: str) -> list[str]:
    value = review.get(key) or []
    if not isinstance(value, list) or any(isinstance(v, dict | list) for v in value):
        raise review.error(key, f"review {key}: is a list of names")
    return [str(v) for v in value]


def _endpoint(name: str, spec: SpecMap, review: SpecMap) -> dict:
    primary = spec["primary"]
    carried = {str(v) for v in spec.get("adsl") or []}
    by = _names(review, "by")
    compare = review.get("compare")
    for key, var in [*(("by", v) for v in by), *([("compare", str(compare))] if compare else [])]:
        if var not in carried:
            raise review.error(
                key,
                f"review {key}: {var} is not carried from ADSL onto {name} (add it to adsl:)",
            )
    return {
        "dataset": name,
        "where": review.where("plot") if "plot" in review else spec.where(),
        "population": str(primary.get("population", "")),
        "visit": str(primary.get("AVISIT", "")),
        "by": by,
        "compare": str(compare) if compare else "",
        "plot": _names(review, "plot"),
        "criteria": {
            str(paramcd): [
                {
                    "CRIT": int(c["CRIT"]),
                    "text": str(c["text"]),
                    "improvement": c.get("improvement"),
                }
                for c in crits
            ]
            for paramcd, crits in (spec.get("criteria") or {}).items()
        },
    }


def _panel(name: str, review: SpecMap, specs: Mapping[str, SpecMap], notes: list[str]) -> dict:
    params = review.get("parameters")
    if not isinstance(params, SpecMap) or not params:
        raise review.error("parameters", "review parameters: maps PARAMCD to a short name")
    resp = review.get("responders")
    if resp is not None:
        if not isinstance(resp, SpecMap):
            raise review.error("responders", "review responders: {dataset:, PARAMCD:, CRIT:}")
        resp.only(frozenset({"dataset", "PARAMCD", "CRIT"}), "review responders")
        other = specs.get(str(resp.require("dataset")))
        if other is None:  # the study has no such dataset (e.g. a spec without its efficacy)
            notes.append(
                f"{resp.where()}: the {name} panel is not split by responders: the ADaM spec "
                f"declares no dataset {resp['dataset']}"
            )
            return {
                "dataset": name,
                "where": review.where("parameters"),
                "parameters": {str(k): str(v) for k, v in params.items()},
                "responders": None,
            }
        crits = (other.get("criteria") or {}).get(str(resp.require("PARAMCD")))
        if not crits or int(resp.require("CRIT")) not in [int(c["CRIT"]) for c in crits]:
            raise resp.error(
                None,
                f"review responders: {resp['dataset']} declares no criterion CRIT "
                f"{resp['CRIT']} for {resp['PARAMCD']}",
            )
        resp = {
            "dataset": str(resp["dataset"]),
            "PARAMCD": str(resp["PARAMCD"]),
            "CRIT": int(resp["CRIT"]),
        }
    return {
        "dataset": name,
        "where": review.where("parameters"),
        "parameters": {str(k): str(v) for k, v in params.items()},
        "responders": resp,
    }


def review_plan(specs: Mapping[str, SpecMap]) -> dict:
    """The plan of the reports from the ADaM specs (``dataset -> spec``); a mistake in a
    ``review:`` block is a ``file:line`` error."""
    plan: dict = {"endpoints": [], "labs": [], "shifts": [], "notes": []}
    for name, spec in sorted(specs.items()):
        if str(spec.get("structure")) != "BDS":
            if "review" in spec:
                raise spec.error("review", "review: applies to BDS datasets")
            continue
        review = spec.get("review") or SpecMap()
        if not isinstance(review, SpecMap):
            raise spec.error("review", "review: is a mapping (by, plot, parameters, responders)")
        if review:
            review.only(REVIEW_KEYS, "review")
        if "primary" in spec and spec.get("criteria"):
            plan["endpoints"].append(_endpoint(name, spec, review))
        elif review.get("by") or review.get("plot") or review.get("compare"):
            raise review.error(
                next(k for k in ("by", "plot", "compare") if k in review),
                f"review by:, compare: and plot: need endpoints ({name} declares no criteria: "
                "and primary:)",
            )
        if "parameters" in review:
            plan["labs"].append(_panel(name, review, specs, plan["notes"]))
        elif "responders" in review:
            raise review.error("responders", "review responders: needs parameters:")
        if spec.get("ranges"):
            plan["shifts"].append(name)
    return plan


def check_plan(plan: dict, adam: Mapping[str, object]) -> None:
    """Every parameter the plan names is a parameter of its dataset (after derivation)."""
    for ep in plan["endpoints"]:
        have = set(adam[ep["dataset"]]["PARAMCD"].astype(str).unique())  # type: ignore[index]
        for code in ep["plot"]:
            if code not in have:
                raise InputError(
                    f"{ep['where']}: {ep['dataset']}: review plot: {code} is not a parameter of "
                    "the dataset "
                    f"(parameters: {', '.join(sorted(have))})"
                )
    for panel in plan["labs"]:
        have = set(adam[panel["dataset"]]["PARAMCD"].astype(str).unique())  # type: ignore[index]
        for code in panel["parameters"]:
            if code not in have:
                raise InputError(
                    f"{panel['where']}: {panel['dataset']}: review parameters: {code} is not a "
                    f"parameter of the dataset (parameters: {', '.join(sorted(have)[:12])} ...)"
                )
