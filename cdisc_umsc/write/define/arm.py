"""Analysis Results Metadata 1.0 for Define-XML 2.1 (ARM 1.0 section 4): one ResultDisplay
with one AnalysisResult per declared result, its reason and purpose as declared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lxml import etree

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.write.datasetjson import item_group_oid, item_oid
from cdisc_umsc.write.define.nodes import el, translated

#: ARM 1.0 / Define-XML CT: AnalysisReason (C174225) and AnalysisPurpose (C174224) terms
REASONS = frozenset(
    {
        "SPECIFIED IN PROTOCOL",
        "SPECIFIED IN SAP",
        "DATA DRIVEN",
        "REQUESTED BY REGULATORY AGENCY",
    }
)
PURPOSES = frozenset(
    {"PRIMARY OUTCOME MEASURE", "SECONDARY OUTCOME MEASURE", "EXPLORATORY OUTCOME MEASURE"}
)


def _where(result: Mapping, ds: Dataset) -> tuple[str, list] | None:
    pairs = list(result.get("where") or ())
    if not pairs:
        return None
    checks = []
    for var, value in pairs:
        if not ds.has(var):
            raise WriteError(
                f"define: ARM display {result['id']}: where variable {var} is not "
                f"in dataset {ds.name}"
            )
        values = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        checks.append((item_oid(ds.name, var), "IN" if len(values) > 1 else "EQ", values))
    return f"WC.{result['id']}.{ds.name}", checks


def _term(res: Mapping, key: str, allowed: frozenset[str]) -> str:
    value = res.get(key)
    if value is None:
        raise WriteError(f"define: ARM display {res['id']}: no analysis {key} is given")
    if str(value) not in allowed:
        raise WriteError(
            f"define: ARM display {res['id']}: analysis {key} {value!r} is not one of "
            f"{', '.join(sorted(allowed))}"
        )
    return str(value)


def analysis_results(
    mdv: etree._Element, arm: Sequence[Mapping], included: Mapping[str, Dataset]
) -> list[tuple[str, list]]:
    """arm:AnalysisResultDisplays; returns the where clauses the results use."""
    root = el(mdv, "arm:AnalysisResultDisplays")
    clauses = []
    for res in arm:
        missing = {"id", "name", "description", "dataset"} - set(res)
        if missing:
            raise WriteError(
                f"define: ARM entry {res.get('id', '?')!r} lacks {', '.join(sorted(missing))}"
            )
        ds = included.get(res["dataset"])
        if ds is None:
            raise WriteError(
                f"define: ARM display {res['id']}: dataset {res['dataset']} is not in this define"
            )
        display = el(root, "arm:ResultDisplay", [("OID", f"RD.{res['id']}"), ("Name", res["name"])])
        translated(display, "Description", str(res["description"]))
        where = _where(res, ds)
        param = (
            item_oid(ds.name, "PARAMCD")
            if where and any(v == "PARAMCD" for v, _ in res["where"])
            else None
        )
        result = el(
            display,
            "arm:AnalysisResult",
            [
                ("OID", f"AR.{res['id']}"),
                ("ParameterOID", param),
                ("AnalysisReason", _term(res, "reason", REASONS)),
                ("AnalysisPurpose", _term(res, "purpose", PURPOSES)),
            ],
        )
        translated(result, "Description", str(res.get("result") or res["description"]))
        adss = el(
            el(result, "arm:AnalysisDatasets"),
            "arm:AnalysisDataset",
            [("ItemGroupOID", item_group_oid(ds.name))],
        )
        if where:
            el(adss, "def:WhereClauseRef", [("WhereClauseOID", where[0])])
            clauses.append(where)
        for var in res.get("variables") or ():
            if not ds.has(var):
                raise WriteError(
                    f"define: ARM display {res['id']}: analysis variable {var} "
                    f"is not in dataset {ds.name}"
                )
            el(adss, "arm:AnalysisVariable", [("ItemOID", item_oid(ds.name, var))])
        if res.get("documentation"):
            translated(el(result, "arm:Documentation"), "Description", str(res["documentation"]))
        if res.get("code"):
            code = el(result, "arm:ProgrammingCode", [("Context", res.get("context"))])
            el(code, "arm:Code", [], str(res["code"]))
    return clauses
