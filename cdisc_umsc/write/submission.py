"""What a define.xml needs besides the datasets, derived from the metadata by general rules:
value-level metadata per test code, and Analysis Results Metadata from the ADaM spec's endpoints."""

from __future__ import annotations

from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.metadata.specfile import SpecMap


def value_lists(meta: dict[str, Dataset]) -> dict[tuple[str, str], str]:
    """Result variables described per test: --ORRES/--STRESN by --TESTCD, QVAL by QNAM, AVAL
    by PARAMCD (Define-XML 2.1 section 5.3.6)."""
    result: dict[tuple[str, str], str] = {}
    for name, ds in meta.items():
        if name.startswith("SUPP") and ds.has("QVAL"):
            result[(name, "QVAL")] = "QNAM"
        elif ds.has(f"{name}TESTCD"):
            for var in (f"{name}ORRES", f"{name}STRESN"):
                if ds.has(var):
                    result[(name, var)] = f"{name}TESTCD"
        elif ds.has("PARAMCD") and ds.has("AVAL"):
            result[(name, "AVAL")] = "PARAMCD"
    return result


def analysis_results(adam_specs: dict[str, SpecMap]) -> list[dict]:
    """One analysis result per endpoint criterion declared in a BDS spec (ARM 1.0)."""
    results = []
    for name, spec in sorted(adam_specs.items()):
        primary = spec.get("primary")
        if primary is None:
            continue
        population = str(primary["population"])
        groups = [str(v) for v in (spec.get("review") or {}).get("by") or []]
        by = f" and by {', '.join(groups)}" if groups else ""
        for paramcd, crits in (spec.get("criteria") or {}).items():
            for crit in crits:
                n = int(crit["CRIT"])
                label = str(crit["text"]).split(":")[0]
                rule = (
                    f"improvement from baseline >= {crit['improvement']}% "
                    "((BASE - AVAL) / BASE x 100, compared unrounded)"
                    if "improvement" in crit
                    else f"AVAL in {', '.join(str(v) for v in crit['aval_in'])}"
                )
                results.append(
                    {
                        "id": f"{name}.{paramcd}.CRIT{n}",
                        "name": f"{label} responder rate",
                        "description": (
                            f"{crit['text']}: responders n/N and % at {primary['AVISIT']}, "
                            f"overall{by}"
                        ),
                        "dataset": name,
                        "variables": [f"CRIT{n}FL", "AVAL", "BASE"],
                        "where": [("PARAMCD", str(paramcd)), ("ANL01FL", "Y"), (population, "Y")],
                        "documentation": (
                            f"Responder: {rule}. Analysis record: ANL01FL = Y at "
                            f"{primary['AVISIT']}; "
                            f"a subject without a value there has a {primary['missing']} record "
                            "(baseline carried forward), so counts as a non-responder."
                        ),
                        "code": (
                            f"n = count of records with CRIT{n}FL = 'Y'; N = count of records; "
                            "% = 100 x n / N (cdisc-umsc report)"
                        ),
                    }
                )
    return results
