"""What a define.xml needs besides the datasets, derived from the metadata by general rules:
value-level metadata per test code, and Analysis Results Metadata from the ADaM spec's endpoints."""

from __future__ import annotations

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.write.define.arm import PURPOSES, REASONS


def value_lists(meta: dict[str, Dataset]) -> dict[tuple[str, str], str]:
    """Variables described per value (Define-XML 2.1 section 5.3.6): QVAL by QNAM, --ORRES,
    --STRESC and --STRESN by --TESTCD, --VAL by --PARMCD (TS, DI), AVAL by PARAMCD,
    and any variable the metadata describes per value of another one (e.g. DSDECOD by
    DSCAT, where each category takes its codelist)."""
    result: dict[tuple[str, str], str] = {}
    for name, ds in meta.items():
        prefix = name[:2]
        if name.startswith("SUPP") and ds.has("QVAL"):
            result[(name, "QVAL")] = "QNAM"
        elif ds.has(f"{prefix}TESTCD"):
            for suffix in ("ORRES", "STRESC", "STRESN"):
                if ds.has(f"{prefix}{suffix}"):
                    result[(name, f"{prefix}{suffix}")] = f"{prefix}TESTCD"
        elif ds.has("PARAMCD") and ds.has("AVAL"):
            result[(name, "AVAL")] = "PARAMCD"
        if ds.has(f"{prefix}PARMCD") and ds.has(f"{prefix}VAL"):
            result[(name, f"{prefix}VAL")] = f"{prefix}PARMCD"
        for level in ds.value_level:
            if level.by and ds.has(level.by) and ds.has(level.variable):
                result.setdefault((name, level.variable), level.by)
    return result


def _term(crit: SpecMap, key: str, allowed: frozenset[str]) -> str:
    """A criterion's ARM analysis purpose or reason, one of the Define-XML CT terms."""
    value = crit.get(key)
    if value is None or str(value) not in allowed:
        found = "none is given" if value is None else f"not {value!r}"
        raise InputError(
            f"{crit.where(key) if key in crit else crit.where()}: criterion {key} must be one "
            f"of {', '.join(sorted(allowed))} ({found})"
        )
    return str(value)


def analysis_results(adam_specs: dict[str, SpecMap]) -> list[dict]:
    """One analysis result per endpoint criterion declared in a BDS spec (ARM 1.0), with
    the analysis purpose and reason the criterion declares."""
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
                        "purpose": _term(crit, "purpose", PURPOSES),
                        "reason": _term(crit, "reason", REASONS),
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
