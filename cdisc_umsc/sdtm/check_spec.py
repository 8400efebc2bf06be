"""Static checks of a loaded spec: every reference resolves before any data is read."""

from __future__ import annotations

from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.resolve import ig_row
from cdisc_umsc.metadata.specfile import SpecError, SpecMap

REF_PARAMS = ("field", "date", "time", "number", "ct", "age", "at", "visit", "visitnum")


def _fields_of(spec, forms: list[str]) -> set[str]:
    names: set[str] = set()
    for f in forms:
        names |= {x.name for x in spec.forms[f].fields}
    return names


def _check_variable(
    spec, dom, var: str, p: SpecMap, owner: SpecMap, fields: set[str], targets: set[str]
) -> None:
    from cdisc_umsc.sdtm.algorithms import ALGORITHMS, algorithm_for

    algo = algorithm_for(p)
    if algo is None:
        raise owner.error(
            var,
            f"variable {var}: give exactly one algorithm (one of: {', '.join(sorted(ALGORITHMS))})",
        )
    for key in p:
        if key not in algo.params and key not in ("form",):
            raise p.error(
                key,
                f"unknown parameter '{key}' for algorithm '{algo.name}' "
                f"(allowed: {', '.join(sorted(algo.params))})",
            )
    if "recode" in p and str(p["recode"]) not in spec.recodes:
        raise p.error("recode", f"unknown recode table '{p['recode']}' (codelists.yaml recodes:)")
    if p.get("codelist") is not None:
        cid = str(p["codelist"])
        if (
            cid not in spec.sponsor_codelists
            and standards.controlled_terminology("SDTM", spec.ct_version).codelist(cid) is None
        ):
            raise p.error("codelist", f"unknown codelist '{cid}'")
    refs = [str(p[k]) for k in REF_PARAMS if k in p and algo.name != "visitnum_of"]
    refs += [str(x) for x in p.get("fields", [])]
    for r in refs:
        if "." in r:
            form, _, fld = r.partition(".")
            if form not in spec.forms or fld not in _fields_of(spec, [form]):
                raise p.error(None, f"variable {var}: unknown raw field '{r}'")
        elif r not in fields and r not in targets:
            raise p.error(
                None,
                f"variable {var}: unknown raw field '{r}' (not a field of "
                f"the domain's forms nor a variable of {dom.name})",
            )
    if isinstance(p.get("else"), SpecMap):
        _check_variable(spec, dom, var, p["else"], p, fields, targets)


def check_spec(spec) -> None:
    """Raise SpecError (file:line) for the first unresolved reference in the spec."""
    std, version = spec.sdtm_standard
    datasets = standards.ig_datasets(std, version).set_index("dataset")
    for dom in spec.domains.values():
        if dom.name not in datasets.index:
            raise SpecError(f"{dom.file}:1", f"domain {dom.name} is not in {std} {version}")
        cls = str(datasets.loc[dom.name, "cls"])
        targets = set(dom.all_variables())
        all_fields = _fields_of(spec, [s.form for s in dom.sources])
        for src in dom.sources:
            extra = set()
            if src.melt is not None:
                extra = {str(src.melt["name"]), str(src.melt["value"])}
            for var, p in src.variables.items():
                _check_variable(
                    spec, dom, var, p, src.variables, _fields_of(spec, [src.form]) | extra, targets
                )
        melt_names = {str(s.melt[k]) for s in dom.sources if s.melt for k in ("name", "value")}
        for var, p in dom.variables.items():
            _check_variable(spec, dom, var, p, dom.variables, all_fields | melt_names, targets)
        for var in targets:
            if ig_row(std, version, dom.name, var) is None and not standards.model_allows(
                cls, dom.name, var
            ):
                owner = (
                    dom.variables
                    if var in dom.variables
                    else next((s.variables for s in dom.sources if var in s.variables), dom.spec)
                )
                raise owner.error(
                    var,
                    f"variable {var} is not in {std} {version} {dom.name} "
                    "nor allowed by the SDTM model for its class "
                    "(non-standard variables go to supp:)",
                )
