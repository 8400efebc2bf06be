"""Assemble ADaM datasets from SDTM as the ADaM spec (mappings/<study>/adam/*.yaml) declares.

ADSL: one record per DM subject, variables copied or derived. BDS: records from one SDTM
findings domain, parameters declared with their source test, then baseline, change, the
primary-analysis record (ANL01FL, with imputation when missing) and the endpoint criteria.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdisc_umsc.adam import derive as D
from cdisc_umsc.errors import InputError
from cdisc_umsc.metadata import standards
from cdisc_umsc.metadata.model import Dataset, Variable
from cdisc_umsc.metadata.specfile import SpecMap

ADAM = ("ADaMIG", "1.3")
DATE_FORMAT = "DATE9."
#: ADaMIG identifier variables, always first (ADaMIG 1.3 section 3.1.1)
IDENTIFIERS = ("STUDYID", "USUBJID", "SUBJID", "SITEID")


def _match(frame: pd.DataFrame, cond: SpecMap | None) -> pd.Series:
    ok = pd.Series(True, index=frame.index)
    for key, expected in (cond or {}).items():
        values = frame[str(key)].astype(str)
        if isinstance(expected, list):
            ok &= values.isin([str(x) for x in expected])
        else:
            ok &= values == str(expected)
    return ok


def _has_records(sdtm: dict[str, pd.DataFrame], cond: SpecMap, subjects: pd.Series) -> pd.Series:
    dom = sdtm[str(cond["has_records"])]
    rows = dom[_match(dom, cond.get("where"))]
    return subjects.isin(set(rows["USUBJID"]))


def build_adsl(spec: SpecMap, sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """ADSL from DM (one record per subject) and the flags the spec declares."""
    dm = sdtm[str(spec.get("source", "DM"))]
    out = dm[[str(c) for c in spec["copy"]]].copy()
    for var, p in spec.get("variables", {}).items():
        if "copy" in p:
            out[var] = dm[str(p["copy"])].to_numpy()
        elif "date" in p:
            out[var] = D.derive_var_dt(dm[str(p["date"])]).to_numpy()
        elif "flag" in p:
            out[var] = np.where(_has_records(sdtm, p["flag"], dm["USUBJID"]), "Y", "N")
            for extra in p.get("and", []):
                out[var] = np.where((out[var] == "Y") & (out[str(extra)] == "Y"), "Y", "N")
        elif "hardcode" in p:
            out[var] = str(p["hardcode"])
        else:
            raise InputError(f"{p.where()}: unknown ADSL derivation for {var}")
    return out.reset_index(drop=True)


def build_bds(spec: SpecMap, sdtm: dict[str, pd.DataFrame], adsl: pd.DataFrame) -> pd.DataFrame:
    """A BDS dataset: parameters, AVAL, visits, baseline, change, ANL01FL, criteria."""
    src_name = str(spec["source"])
    src = sdtm[src_name]
    parts = []
    decimals: dict[str, int] = {}
    for prm in _parameters(spec, src):
        rows = src[_match(src, prm["where"])]
        part = pd.DataFrame({
            "STUDYID": rows["STUDYID"].to_numpy(), "USUBJID": rows["USUBJID"].to_numpy(),
            "PARAMCD": str(prm["PARAMCD"]), "PARAM": str(prm["PARAM"]),
            "AVAL": rows[str(spec["aval"])].to_numpy(dtype="float64"),
            "ADT": D.derive_var_dt(rows[str(spec["adt"])]).to_numpy(),
            "AVISIT": rows[str(spec["avisit"]["AVISIT"])].to_numpy(),
            "AVISITN": rows[str(spec["avisit"]["AVISITN"])].to_numpy(dtype="float64"),
            "SRCDOM": src_name, "SRCVAR": str(spec["aval"]),
            "SRCSEQ": rows[f"{src_name}SEQ"].to_numpy(dtype="float64"),
        })
        for target, source in (spec.get("carry") or {}).items():
            part[str(target)] = rows[str(source)].to_numpy()
        decimals[str(prm["PARAMCD"])] = int(prm.get("decimals", 0))
        parts.append(part)
    bds = pd.concat(parts, ignore_index=True)
    bds = D.derive_vars_merged(bds, adsl, ["STUDYID", "USUBJID"], [str(v) for v in spec["adsl"]])
    bds["ADY"] = D.derive_var_ady(bds["ADT"], bds["TRTSDT"])
    by = ["USUBJID", "PARAMCD"]
    bds["ABLFL"] = D.derive_var_ablfl(bds, by, "AVAL", "ADT", "TRTSDT", order=["AVISITN"])
    bds["BASE"] = D.derive_var_base(bds, by)
    post = (bds["ADT"] > bds["TRTSDT"]).fillna(False) & (bds["ABLFL"] != "Y")
    bds["DTYPE"] = ""
    primary = spec.get("primary")
    if primary is not None:
        visitn = float(primary["AVISITN"])
        pop = adsl[adsl[str(primary["population"])] == "Y"]
        imputed = D.derive_param_imputed(bds, pop, by, str(primary["AVISIT"]), visitn,
                                         str(primary["missing"]))
        bds = pd.concat([bds, imputed], ignore_index=True)
        post = pd.concat([post, pd.Series(True, index=range(len(imputed)))], ignore_index=True)
    bds["CHG"], bds["PCHG"] = np.nan, np.nan
    for paramcd, dec in decimals.items():
        sel = bds["PARAMCD"] == paramcd
        bds.loc[sel, "CHG"] = D.derive_var_chg(bds[sel], post[sel], dec)
        bds.loc[sel, "PCHG"] = D.derive_var_pchg(bds[sel], post[sel], dec)
    if primary is not None:
        in_pop = bds["USUBJID"].isin(pop["USUBJID"])
        at_visit = (bds["AVISITN"] == visitn) & in_pop
        dup = bds[at_visit].duplicated(by, keep="last")
        bds["ANL01FL"] = np.where(at_visit & ~dup.reindex(bds.index, fill_value=True), "Y", "")
    for paramcd, crits in spec.get("criteria", {}).items():
        sel = bds["PARAMCD"] == str(paramcd)
        for c in crits:
            n = int(c["CRIT"])
            if "improvement" in c:
                flag = D.derive_var_crit_improvement(bds[sel], float(c["improvement"]),
                                                     decimals[str(paramcd)])
            else:
                flag = D.derive_var_crit_in(bds[sel], [float(x) for x in c["aval_in"]])
            apply = sel & post
            for col in (f"CRIT{n}", f"CRIT{n}FL"):
                if col not in bds:
                    bds[col] = ""
            bds.loc[apply, f"CRIT{n}"] = str(c["text"])
            bds.loc[apply, f"CRIT{n}FL"] = flag[apply[sel].to_numpy()].to_numpy()
    keys = ["USUBJID", "PARAMCD", "AVISITN", "ADT"]
    return bds.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)


def _parameters(spec: SpecMap, src: pd.DataFrame) -> list[dict]:
    """The declared parameters; ``per_test`` declares one parameter per distinct test code."""
    declared = spec["parameters"]
    if isinstance(declared, list):
        return list(declared)
    test = str(declared["per_test"])
    rows = src[_match(src, declared.get("where"))]
    first = rows.drop_duplicates(test).sort_values(test)
    template = str(declared["PARAM"])
    params = []
    for record in first.to_dict("records"):  # one per parameter, not per data row
        params.append({"PARAMCD": record[test], "PARAM": template.format(**record),
                       "where": {**(declared.get("where") or {}), test: record[test]},
                       "decimals": int(declared.get("decimals", 6))})
    return params


_PLACEHOLDER = re.compile(r"(xx|zz|y|w)")


def _label(template_name: str, name: str, label: str) -> str:
    """ADaMIG template label with its placeholders (xx, y, zz) filled from the concrete name."""
    if template_name == name:
        return label
    pattern = "^" + _PLACEHOLDER.sub(lambda m: r"(\d+)", re.escape(template_name)) + "$"
    hit = re.match(pattern, name)
    if not hit:
        return label
    values = iter(hit.groups())
    return re.sub(r"\b(xx|zz|y|w)\b", lambda m: next(values, m.group(0)), label)


def adam_meta(spec: SpecMap, frame: pd.DataFrame, study_codelists: dict) -> Dataset:
    """Dataset metadata for an ADaM dataset from ADaMIG 1.3 (ADSL variables from ADSL)."""
    structure = str(spec["structure"])
    overrides = spec.get("metadata", {}) or {}
    rows = []
    for pos, var in enumerate(frame.columns):
        from_adsl = var in spec.get("adsl", []) or var in IDENTIFIERS
        row = None if from_adsl and structure != "ADSL" else \
            standards.ig_variable(*ADAM, structure, var)
        adsl_row = standards.ig_variable(*ADAM, "ADSL", var) if row is None else None
        if row is None and adsl_row is None:  # a DM variable carried as a predecessor
            adsl_row = standards.ig_variable("SDTMIG", "3.4", "DM", var)
        ov = overrides.get(var, {}) or {}
        if row is None and adsl_row is None and not ov.get("label"):
            raise InputError(f"{spec.where()}: {var} is not an ADaMIG 1.3 {structure} or ADSL "
                             "variable; give its label under metadata:")
        use = row or adsl_row or {"label": ov.get("label"), "type": ov.get("type", "Char"),
                                  "order": 900, "core": "Perm", "codelist": ""}
        template = standards.adam_variable_pattern(var) or var
        if var in IDENTIFIERS:
            order = IDENTIFIERS.index(var) - 100
        else:
            order = int(use["order"]) if row is not None else pos / 1000
        sas_type = "Num" if frame[var].dtype.kind == "f" else "Char"
        is_date = var.endswith("DT") and sas_type == "Num"
        rows.append((order, pos, Variable(
            name=var, label=str(ov.get("label") or _label(template, var, str(use["label"]))),
            type=sas_type, order=0,
            data_type="date" if is_date else ("integer" if var.endswith(("SEQ", "DY", "N", "FN"))
                                              and sas_type == "Num" else
                                              ("float" if sas_type == "Num" else "text")),
            core=str(use.get("core") or "Perm"), codelist=(str(use.get("codelist")) or None),
            format=DATE_FORMAT if is_date else None,
            origin="Predecessor" if var in spec.get("copy", []) else "Derived",
            source=f"{spec.get('source', 'DM')}.{var}" if var in spec.get("copy", []) else None,
            method=ov.get("method"), comment=ov.get("comment"),
            key_sequence=(list(spec["keys"]).index(var) + 1) if var in spec["keys"] else None)))
    rows.sort(key=lambda r: (r[0], r[1]))
    variables = tuple(Variable(**{**v.__dict__, "order": i})
                      for i, (_o, _p, v) in enumerate(rows, start=1))
    info = standards.ig_datasets(*ADAM).set_index("dataset").loc[structure]
    return Dataset(name=str(spec["dataset"]), label=str(spec["label"]), cls=str(info["cls"]),
                   structure=str(spec.get("records", info["structure"])),
                   standard="ADaMIG 1.3", purpose="Analysis",
                   keys=tuple(str(k) for k in spec["keys"]), variables=variables)


def build_adam(adam_specs: dict[str, SpecMap], sdtm: dict[str, pd.DataFrame],
               study_codelists: dict | None = None) -> tuple[dict[str, pd.DataFrame],
                                                              dict[str, Dataset]]:
    """Every ADaM dataset the spec declares: ADSL first, then BDS datasets."""
    data: dict[str, pd.DataFrame] = {}
    meta: dict[str, Dataset] = {}
    if "ADSL" not in adam_specs:
        raise InputError("ADaM spec: adsl.yaml (dataset: ADSL) is required")
    data["ADSL"] = build_adsl(adam_specs["ADSL"], sdtm)
    for name, spec in adam_specs.items():
        if name != "ADSL":
            data[name] = build_bds(spec, sdtm, data["ADSL"])
    for name, spec in adam_specs.items():
        meta[name] = adam_meta(spec, data[name], study_codelists or {})
        data[name] = data[name][[v.name for v in meta[name].variables]]
    return data, meta
