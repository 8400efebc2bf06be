"""What define.xml says of each ADaM variable, generated from the derivation the ADaM spec
declares: origin (Define-XML 2.1 section 5.3.11: Predecessor for a value carried from SDTM or
ADSL, Derived with its method, Assigned for a constant) and the method in reviewer words,
including the rules for ties and missing values the builders apply. AVAL (and AVALC) are
described per parameter too (value-level metadata, section 5.3.6).

A spec ``metadata: {VAR: {method: ...}}`` overrides the generated text. The texts follow the
code of ``adsl.py``, ``bds.py``, ``occds.py``, ``dates.py``, ``flags.py``, ``ranges.py``,
``visits.py`` and ``params.py``; a behaviour change there must change the words here.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import pandas as pd

from cdisc_umsc.adam.bds import RECORD_FLAG
from cdisc_umsc.core.conditions import parse_condition
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.model import ValueLevel
from cdisc_umsc.metadata.specfile import SpecMap

IDENTIFIERS = ("STUDYID", "USUBJID", "SUBJID", "SITEID")
SAS_DATE = "numeric SAS date (days since 1960-01-01)"


@dataclass(frozen=True)
class Said:
    """Origin, source (the predecessor) and method of one variable."""

    origin: str
    source: str | None = None
    method: str | None = None
    #: The spec line the derivation comes from, as the lineage cites it (``file:line: what``);
    #: not part of what define.xml says, so not compared.
    at: str | None = field(default=None, compare=False)


def _at(spec: SpecMap, key: str) -> str:
    """``file:line: key`` of one key of a dataset spec, with its value when it is one name."""
    value = spec.get(key)
    shown = (
        f"={value}" if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    )
    return f"{spec.where(key)}: {key}{shown}"


def _cite(out: dict[str, Said], at: str, names: Iterable[str]) -> None:
    """Record ``at`` as the spec line of the named variables that have none yet."""
    for name in names:
        if name in out and out[name].at is None:
            out[name] = replace(out[name], at=at)


def _q(value: object) -> str:
    """A value as the reviewer reads it: numbers as written, text quoted."""
    if isinstance(value, bool):
        return f"'{value}'"
    if isinstance(value, int | float):
        return f"{value:g}"
    return f"'{value}'"


def _list(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cond(obj: object) -> str:
    return parse_condition(obj).describe()


def _pattern(template: str) -> str:
    """A name template such as ``_{PARAMCD}`` in words: its text and the source's values."""
    parts = []
    for literal, name, _s, _c in string.Formatter().parse(template):
        if literal:
            parts.append(_q(literal))
        if name:
            parts.append(f"the source {name}")
    return parts[0] if len(parts) == 1 else f"the concatenation of {_list(parts)}"


def _derived(text: str) -> Said:
    return Said("Derived", None, text)


# ------------------------------------------------------------------------------ dates


def _imputation(highest: str, rule: str) -> str:
    """The imputation rule of ``dates.compute_dt_imputed`` in words."""
    if highest == "n":
        return "blank when the date is partial (no imputation)"
    fills = {
        "first": ("01", "01"),
        "last": ("12", "the last day of the month"),
        "mid": ("06", "15 (06-30 when the month is missing too)"),
    }[rule]
    if highest == "D":
        return f"a missing day is imputed as {fills[1]}; blank when the month is missing"
    return f"a missing month is imputed as {fills[0]} and a missing day as {fills[1]}"


def _flag_text(var: str, date: str) -> str:
    return (
        f"Imputation flag of {var}: D when the day of {date} was imputed, M when the month "
        "and day were, blank when nothing was (ADaM CT DATEFL)"
    )


def _time_flag_text(var: str, date: str) -> str:
    return (
        f"Imputation flag of the time of {var}: H when the hour of {date} was imputed, M the "
        "minute, S the second, blank when nothing was (ADaM CT TIMEFL)"
    )


# ------------------------------------------------------------------------------ ADSL


def _from_words(p: SpecMap) -> str:
    """Which record of another domain an ADSL variable reads (adsl._per_subject)."""
    dom = str(p["from"])
    where = f" where {_cond(p['where'])}" if p.get("where") else ""
    order = [str(v) for v in p.get("order", [])]
    pick = str(p.get("pick", "first"))
    by = f" ordered by {', '.join(order)}" if order else " in the domain's record order"
    return f"of the subject's {pick} {dom} record{where}{by}"


def _adsl_one(var: str, p: SpecMap, source: str, earlier: set[str]) -> dict[str, Said]:
    """The variable(s) one ADSL algorithm gives (adsl._one), described."""
    if "copy" in p:
        col = str(p["copy"])
        if "from" in p:
            return {var: _derived(f"{p['from']}.{col} {_from_words(p)}")}
        if col in earlier:
            return {var: _derived(f"Equal to {col}")}
        return {var: Said("Predecessor", f"{source}.{col}")}
    if "date" in p or "datetime" in p:
        key = "date" if "date" in p else "datetime"
        col = str(p[key])
        imp = p.get("impute") or {}
        highest, rule = str(imp.get("highest", "n")), str(imp.get("rule", "first"))
        what = SAS_DATE if key == "date" else "numeric SAS date-time (seconds since 1960-01-01)"
        src = f"{p['from']}.{col} {_from_words(p)}" if "from" in p else col
        text = f"{what[0].upper()}{what[1:]} of {src}; {_imputation(highest, rule)}"
        if key == "datetime":
            fill = "23:59:59" if rule == "last" else "00:00:00"
            text += f"; a missing time part is imputed from {fill}"
        out = {var: _derived(text)}
        flags = p.get("flag") or {}
        if isinstance(flags, str):
            flags = {"date": flags}
        if flags.get("date"):
            out[str(flags["date"])] = _derived(_flag_text(var, col))
        if flags.get("time") and key == "datetime":
            out[str(flags["time"])] = _derived(_time_flag_text(var, col))
        return out
    if "flag" in p:
        cond = p["flag"]
        if "has_records" in cond:
            where = f" where {_cond(cond['where'])}" if cond.get("where") else ""
            text = f"Y if the subject has at least one {cond['has_records']} record{where}"
        else:
            text = f"Y if {_cond(cond.get('when'))}"
        extra = [str(x) for x in p.get("and", [])]
        if extra:
            text += " and " + " and ".join(f"{x} = 'Y'" for x in extra)
        return {var: _derived(text + ", else N")}
    if "categorize" in p:
        col = str(p["categorize"])
        parts = []
        for label, cond in p["groups"].items():
            test = _cond({col: cond}) if cond else "any other value"
            parts.append(f"{_q(label)} if {test}")
        return {
            var: _derived(
                f"The first group whose condition {col} meets: {'; '.join(parts)}; blank when "
                f"{col} is blank"
            )
        }
    if "map" in p:
        col = str(p["map"])
        pairs = ", ".join(f"{_q(k)} -> {v}" for k, v in p["values"].items())
        if "from" in p:
            text = f"From {p['from']}.{col} {_from_words(p)}: {pairs}; blank without one"
            return {var: _derived(text)}
        return {var: _derived(f"From {col}: {pairs}; blank when {col} is blank")}
    if "duration" in p:
        start, end = (str(v) for v in p["duration"])
        return {var: _derived(f"{end} - {start} + 1 (days); blank when either is missing")}
    if "aggregate" in p:
        where = f" where {_cond(p['where'])}" if p.get("where") else ""
        what = f"{p['aggregate']} of {p['from']}.{p['of']}" if "of" in p else "Number"
        records = f"{p['from']} records" if "of" not in p else "records"
        text = f"{what[:1].upper()}{what[1:]} over the subject's {records}{where}"
        none = "0" if str(p["aggregate"]) in ("count", "sum") else "blank"
        return {var: _derived(f"{text}; {none} when the subject has none")}
    if "bmi" in p:
        height, weight = (str(v) for v in p["bmi"])
        return {var: _derived(f"{weight} (kg) / ({height} (cm) / 100) squared")}
    if "hardcode" in p:
        return {var: Said("Assigned", None, f"Set to {_q(p['hardcode'])}")}
    raise InputError(f"{p.where()}: {var}: no derivation to describe")


def _adsl(spec: SpecMap) -> dict[str, Said]:
    source = str(spec.get("source", "DM"))
    copied = {str(v) for v in spec.get("copy", [])}
    out = {v: Said("Predecessor", f"{source}.{v}") for v in copied}
    _cite(out, f"{spec.where('copy')}: copy {source}", copied)
    earlier: set[str] = set()
    for var, p in (spec.get("variables") or {}).items():
        said = _adsl_one(var, p, source, earlier)
        alt = p.get("else")
        while alt is not None:
            more = _adsl_one(var, alt, source, earlier)
            for name, s in more.items():
                first = said.get(name)
                if first is None or first.method is None:
                    said[name] = s if first is None else first
                    continue
                rest = s.method or f"{s.source}"
                said[name] = _derived(
                    f"{first.method}; when that gives no value: {rest[:1].lower()}{rest[1:]}"
                )
            alt = alt.get("else")
        _cite(said, p.cited(), list(said))
        out.update(said)
        earlier |= set(said)
    return out


# ------------------------------------------------------------------------------ BDS


def _parameters(spec: SpecMap, src: str) -> tuple[Said, Said, dict[str, str]]:
    """(PARAMCD, PARAM, per-parameter AVAL words) of the declared parameters."""
    declared = spec["parameters"]
    aval = str(spec["aval"])
    if isinstance(declared, list):
        codes = []
        values = {}
        for prm in declared:
            where = _cond(prm["where"])
            codes.append(f"{prm['PARAMCD']} for the {src} records where {where}")
            values[str(prm["PARAMCD"])] = f"{src}.{aval} of the source record ({where})"
        code = _derived("One parameter per source test: " + "; ".join(codes))
        names = "; ".join(f"{_q(p['PARAM'])} for {p['PARAMCD']}" for p in declared)
        return code, _derived(f"The name of each parameter: {names}"), values
    test = str(declared["per_test"])
    where = f" (records where {_cond(declared['where'])})" if declared.get("where") else ""
    template = str(declared["PARAM"])
    parts = []
    for literal, name, _s, _c in string.Formatter().parse(template):
        if literal:
            parts.append(_q(literal))
        if name:
            parts.append(name)
    code = _derived(f"{test} of the source {src} record{where}: one parameter per test")
    param = _derived(f"Concatenation of {_list(parts)} of the source {src} record")
    return code, param, {"*": f"{src}.{aval} of the source record"}


def _baseline(spec: SpecMap) -> str:
    rule = spec.get("baseline") or {}
    if "where" in rule:
        return (
            f"Y on the subject's record of each parameter where {_cond(rule['where'])} and AVAL "
            "is not missing (the last such record when there are several); blank otherwise"
        )
    order = [str(v) for v in rule.get("order", ["AVISITN"])]
    ref = str(rule.get("reference", "TRTSDT"))
    return (
        f"Y on the subject's last record of each parameter with a non-missing AVAL and an ADT "
        f"on or before {ref}; records on the same date are ordered by {', '.join(order)} "
        "(then record order) and the last wins; blank otherwise"
    )


def _post(spec: SpecMap) -> str:
    how = str((spec.get("change") or {}).get("post", "after_reference"))
    return {
        "after_reference": "records dated after TRTSDT (never the baseline record)",
        "after_baseline": "records on or after the baseline record's date, except the baseline "
        "record",
        "not_baseline": "every record with a baseline value except the baseline record",
    }.get(how, how)


def _precision(spec: SpecMap) -> str:
    declared = spec["parameters"]
    if isinstance(declared, list):
        items = [f"{p['PARAMCD']} {int(p.get('decimals', 0))}" for p in declared]
        return "decimal places per parameter: " + ", ".join(items)
    return f"{int(declared.get('decimals', 6))} decimal places"


def _improvement(crit: SpecMap) -> str:
    return (
        f"Y if (BASE - AVAL) / BASE x 100 >= {crit['improvement']} (compared exactly at the "
        "parameter's precision), N otherwise (N when BASE is 0)"
    )


def _bds(spec: SpecMap, frame: pd.DataFrame) -> tuple[dict[str, Said], list[ValueLevel]]:
    src = str(spec["source"])
    out: dict[str, Said] = {v: Said("Predecessor", f"{src}.{v}") for v in ("STUDYID", "USUBJID")}
    _cite(out, _at(spec, "source"), ("STUDYID", "USUBJID"))
    out.update({str(v): Said("Predecessor", f"ADSL.{v}") for v in spec.get("adsl", [])})
    _cite(out, f"{spec.where('adsl')}: from ADSL", [str(v) for v in spec.get("adsl", [])])
    paramcd, param, aval = _parameters(spec, src)
    out["PARAMCD"], out["PARAM"] = paramcd, param
    declared = spec["parameters"]
    if not isinstance(declared, list) and declared.get("PARAMN"):
        pairs = ", ".join(f"{k} -> {v}" for k, v in declared["PARAMN"].items())
        out["PARAMN"] = _derived(f"From PARAMCD: {pairs}")
    elif isinstance(declared, list) and any("PARAMN" in p for p in declared):
        pairs = ", ".join(f"{p['PARAMCD']} -> {p['PARAMN']}" for p in declared if "PARAMN" in p)
        out["PARAMN"] = _derived(f"From PARAMCD: {pairs}")
    adt = spec["adt"]
    if isinstance(adt, str):
        out["ADT"] = _derived(
            f"The {SAS_DATE} of the date part of {src}.{adt}; blank when it has no complete date"
        )
    else:
        imp = adt.get("impute") or {}
        highest, rule = str(imp.get("highest", "n")), str(imp.get("rule", "first"))
        out["ADT"] = _derived(
            f"The {SAS_DATE} of {src}.{adt['date']}; {_imputation(highest, rule)}"
        )
        if imp.get("flag", "ADTF"):
            out[str(imp.get("flag", "ADTF"))] = _derived(_flag_text("ADT", str(adt["date"])))
            _cite(out, _at(spec, "adt"), (str(imp.get("flag", "ADTF")),))
    _cite(out, _at(spec, "adt"), ("ADT",))
    _cite(out, _at(spec, "parameters"), ("PARAMCD", "PARAM", "PARAMN"))
    out["SRCDOM"] = Said("Assigned", None, f"Set to {_q(src)}")
    out["SRCVAR"] = Said("Assigned", None, f"Set to {_q(spec['aval'])}")
    out["SRCSEQ"] = _derived(f"{src}SEQ of the source {src} record")
    _cite(out, _at(spec, "source"), ("SRCDOM", "SRCSEQ"))
    _cite(out, _at(spec, "aval"), ("SRCVAR",))
    if spec.get("ady"):
        out["ADY"] = Said("Predecessor", f"{src}.{spec['ady']}", at=_at(spec, "ady"))
    else:
        out["ADY"] = _derived(
            "ADT - TRTSDT + 1 when ADT is on or after TRTSDT, else ADT - TRTSDT (there is no "
            "day 0); blank when either is missing"
        )
        _cite(out, _at(spec, "adt"), ("ADY",))
    av = spec.get("avisit") or {}
    if "map" in av:
        pairs = ", ".join(f"{_q(k)} -> {v[0]} ({v[1]})" for k, v in av["values"].items())
        other = av.get("unmapped") or ""
        tail = f"{_q(other)} with no AVISITN" if other else "blank"
        out["AVISIT"] = _derived(f"From {src}.{av['map']}: {pairs}; other visits {tail}")
        out["AVISITN"] = _derived("Number of the analysis visit (AVISIT) as the visit map gives")
    elif "windows" in av:
        day = str(av.get("day", "ADY"))
        wins = "; ".join(
            f"{w['AVISIT']} ({w['AVISITN']}) for {day} {w['lo']} to {w['hi']}, target "
            f"{w.get('target', w['lo'])}"
            for w in av["windows"]
        )
        out["AVISIT"] = _derived(f"The analysis window holding {day}: {wins}; blank outside")
        out["AVISITN"] = _derived("Number of the analysis window (AVISIT)")
        for name, what in (("AWLO", "lower"), ("AWHI", "upper"), ("AWTARGET", "target")):
            out[name] = _derived(f"The {what} study day of the analysis window (AVISIT)")
        rule = str(av.get("rule", "closest"))
        flag = str(av.get("flag", "ANL01FL"))
        words = {
            "closest": f"the record with {day} nearest AWTARGET (equally near: the earlier "
            "day; the same day: the first record)",
            "first": f"the record with the earliest {day}",
            "last": f"the record with the latest {day}",
        }[rule]
        out[flag] = _derived(
            f"Y on one record per subject, parameter and analysis window with a value: {words}"
        )
    elif "AVISIT" in av:
        out["AVISIT"] = _derived(f"{src}.{av['AVISIT']} of the source record")
        out["AVISITN"] = _derived(f"{src}.{av['AVISITN']} of the source record")
    if av:
        window_vars = (
            "AWLO",
            "AWHI",
            "AWTARGET",
            str(av.get("flag", "ANL01FL")) if "windows" in av else "",
        )
        _cite(out, _at(spec, "avisit"), ("AVISIT", "AVISITN", *window_vars))
    carry: SpecMap = spec.get("carry") or SpecMap()
    for target, source in carry.items():
        out[str(target)] = Said("Predecessor", f"{src}.{source}")
        _cite(out, f"{carry.where(target)}: carry {source}", (str(target),))
    rng = spec.get("ranges") or {}
    for limit in ("A1LO", "A1HI"):
        if limit in rng:
            out[limit] = Said("Predecessor", f"{src}.{rng[limit]}", at=_at(spec, "ranges"))
    out["ABLFL"] = _derived(_baseline(spec))
    out["BASE"] = _derived(
        "AVAL of the subject's baseline record (ABLFL = 'Y') of the parameter, on every record "
        "of that parameter; blank when there is none"
    )
    # ABLFL by the spec's baseline rule, else by the default rule over ADT
    _cite(out, _at(spec, "baseline" if "baseline" in spec else "adt"), ("ABLFL", "BASE"))
    post = _post(spec)
    out["CHG"] = _derived(
        f"AVAL - BASE on {post}, computed at the parameter's precision ({_precision(spec)}); "
        "blank on other records"
    )
    out["PCHG"] = _derived(
        f"100 x (AVAL - BASE) / BASE on {post}, from AVAL and BASE at the parameter's "
        "precision; blank on other records and when BASE is 0"
    )
    _cite(out, _at(spec, "change" if "change" in spec else "parameters"), ("CHG", "PCHG"))
    if rng:
        ind = rng.get("anrind") or {}
        low, normal, high = ind.get("terms", ("LOW", "NORMAL", "HIGH"))
        lf, hf = float(ind.get("low_factor", 1)), float(ind.get("high_factor", 1))
        lo = "A1LO" if lf == 1 else f"{lf:g} x A1LO"
        hi = "A1HI" if hf == 1 else f"{hf:g} x A1HI"
        missing = str(ind.get("missing", ""))
        miss = f"{_q(missing)} when AVAL is missing" if missing else "blank when AVAL is missing"
        out["ANRIND"] = _derived(
            f"{low} if AVAL < {lo}, {high} if AVAL > {hi}, {normal} otherwise; {miss}; blank "
            "when both limits are missing"
        )
        out["BNRIND"] = _derived(
            "ANRIND of the subject's baseline record (ABLFL = 'Y') of the parameter"
        )
        if rng.get("shift"):
            out[str(rng["shift"])] = _derived(
                f"BNRIND, ' to ' and ANRIND on {post} where both are known; blank otherwise"
            )
        if rng.get("ratios", True):
            out["R2A1LO"] = _derived("AVAL / A1LO; blank when A1LO is missing or 0")
            out["R2A1HI"] = _derived("AVAL / A1HI; blank when A1HI is missing or 0")
        _cite(
            out,
            _at(spec, "ranges"),
            ("ANRIND", "BNRIND", str(rng.get("shift") or ""), "R2A1LO", "R2A1HI"),
        )
    ontrt = spec.get("ontrt")
    if ontrt is not None:
        window = int(ontrt.get("end_window", 0))
        end = f"TRTEDT + {window} days" if window else "TRTEDT"
        same = str(ontrt.get("same_day", "on_treatment"))
        day = (
            "a record dated the day of the first dose is on treatment"
            if same == "on_treatment"
            else "a record dated the day of the first dose is before it (assessed before dosing)"
        )
        out["ONTRTFL"] = _derived(
            f"Y when the record is at or after the first dose and ADT <= {end} (a missing "
            "TRTEDT counts as ongoing); blank otherwise. The start is compared as date-times "
            "(ADTM >= TRTSDTM) where both have a collected time, else as dates: a later day is "
            f"on treatment and {day}"
        )
        _cite(out, _at(spec, "ontrt"), ("ONTRTFL",))
    primary = spec.get("primary")
    if primary is not None:
        pop, visit = str(primary["population"]), str(primary["AVISIT"])
        missing = str(primary["missing"])
        out["DTYPE"] = _derived(
            f"{missing} on the record added for each subject of the {pop} = 'Y' population "
            f"and parameter without a record at {visit} (AVISITN {primary['AVISITN']}): a copy "
            f"of the baseline record with AVISIT {visit}, AVAL = BASE and no ADT; blank on "
            "observed records"
        )
        out["ANL01FL"] = _derived(
            f"Y on the record at {visit} (AVISITN {primary['AVISITN']}) of each parameter of "
            f"each subject of the {pop} = 'Y' population, observed or {missing}; when there are "
            "several, the last one; blank otherwise"
        )
        _cite(out, _at(spec, "primary"), ("DTYPE", "ANL01FL"))
        added = f"; {visit} (AVISITN {primary['AVISITN']}) on the {missing} records"
        for var in ("AVISIT", "AVISITN"):
            if var in out and out[var].method:
                out[var] = replace(out[var], method=f"{out[var].method}{added}")
        for var in ("ADT", "ADY", "SRCSEQ"):
            if var in out and out[var].method:
                out[var] = replace(
                    out[var], method=f"{out[var].method}; blank on the {missing} records"
                )
    else:
        out["DTYPE"] = Said("Assigned", None, "Always blank: no record is imputed")
    crit_text: dict[str, list[str]] = {}
    crit_flag: dict[str, list[str]] = {}
    responders: dict[str, str] = {}
    for paramcd, crits in (spec.get("criteria") or {}).items():
        for c in crits:
            n = int(c["CRIT"])
            rule = (
                _improvement(c)
                if "improvement" in c
                else (
                    "Y if AVAL is one of "
                    + ", ".join(f"{float(x):g}" for x in c["aval_in"])
                    + ", N otherwise"
                )
            )
            crit_text.setdefault(f"CRIT{n}", []).append(f"for {paramcd}: {_q(c['text'])}")
            crit_flag.setdefault(f"CRIT{n}FL", []).append(f"for {paramcd}: {rule}")
            resp = c.get("responder")
            if resp is not None and primary is not None:
                responders[str(resp["PARAMCD"])] = (
                    f"1 if CRIT{n}FL = 'Y' on the subject's {paramcd} analysis record "
                    f"(ANL01FL = 'Y'), 0 if 'N' (a {primary['missing']} record counts as "
                    "observed, so a subject without a value is a non-responder)"
                )
    for var, parts in crit_text.items():
        out[var] = _derived(f"On {post}: {'; '.join(parts)}; blank on other records and parameters")
    for var, parts in crit_flag.items():
        out[var] = _derived(
            f"On {post} with AVAL and BASE: {'; '.join(parts)}; blank on other records and "
            "parameters"
        )
    if "criteria" in spec:
        _cite(out, _at(spec, "criteria"), [*crit_text, *crit_flag])
    new_params: list[tuple[str, str, str]] = []
    for crits in (spec.get("criteria") or {}).values():
        for c in crits:
            resp = c.get("responder")
            if resp is not None and primary is not None:
                new_params.append((str(resp["PARAMCD"]), str(resp["PARAM"]), f"CRIT{c['CRIT']}"))
    for d in spec.get("derived_parameters") or []:
        new_params.append((_pattern(str(d["PARAMCD"])), "", ""))
    if new_params:
        codes = "; ".join(
            f"{code} ({_q(name)}), responder of {crit}"
            if crit
            else f"for each source parameter, {code}"
            for code, name, crit in new_params
        )
        out["PARAMCD"] = replace(
            out["PARAMCD"], method=f"{out['PARAMCD'].method}; derived parameters: {codes}"
        )
        names = [f"{_q(name)} for {code}" for code, name, crit in new_params if crit]
        for d in spec.get("derived_parameters") or []:
            names.append(f"for each source parameter, {_pattern(str(d['PARAM']))}")
        out["PARAM"] = replace(out["PARAM"], method=f"{out['PARAM'].method}; {'; '.join(names)}")
    extra_words = []
    for rec in spec.get("extra_records") or []:
        where = f" where {_cond(rec['where'])}" if rec.get("where") else ""
        order = ", ".join(str(v) for v in rec.get("order", ["ADT"]))
        sets = ", ".join(f"{k} = {_q(v)}" for k, v in rec["set"].items())
        extra_words.append(
            f"on the records added with {sets} (a copy of the {rec.get('pick', 'last')} record "
            f"by {order} per subject and parameter{where}), the copied value"
        )
        for var in rec["set"]:
            if var in out and out[var].method:
                out[var] = replace(
                    out[var], method=f"{out[var].method}; on the added records: {sets}"
                )
        for var in out:  # the builder's record flags restart blank on a copy (bds.py)
            if var not in rec["set"] and var in frame.columns and RECORD_FLAG.fullmatch(var):
                if out[var].method:
                    out[var] = replace(
                        out[var],
                        method=f"{out[var].method}; blank on the records added with {sets}",
                    )
    levels = _aval_levels(spec, frame, aval, responders, primary, extra_words)
    if "AVAL" in frame.columns:
        texts: dict[str, list[str]] = {}
        for level in levels:
            if level.variable == "AVAL" and level.method:
                texts.setdefault(level.method, []).append(level.code)
        out["AVAL"] = _derived(
            "Per parameter: "
            + "; ".join(f"{_list(codes)}: {text}" for text, codes in texts.items())
        )
        _cite(out, _at(spec, "aval"), ("AVAL",))
    if "AVALC" in frame.columns and responders:
        out["AVALC"] = _derived(
            "On the responder parameters ("
            + ", ".join(responders)
            + "): Y or N, the criterion flag of the analysis record (AVAL 1 or 0); blank on "
            "other parameters"
        )
        _cite(out, _at(spec, "criteria"), ("AVALC",))
    return out, levels


def _aval_levels(
    spec: SpecMap,
    frame: pd.DataFrame,
    aval: dict[str, str],
    responders: dict[str, str],
    primary: SpecMap | None,
    extra_words: list[str],
) -> list[ValueLevel]:
    """AVAL per PARAMCD: the source value, a derived parameter's formula, a responder."""
    if "PARAMCD" not in frame.columns:
        return []
    codes = sorted(set(frame["PARAMCD"].astype(str).unique()) - {""})
    derived: dict[str, str] = {}
    for d in spec.get("derived_parameters") or []:
        for code in codes:
            for base in codes:
                if str(d["PARAMCD"]).format(PARAMCD=base) == code and code != base:
                    dec = f", rounded to {int(d['decimals'])} decimal(s) (halves away from zero)"
                    derived[code] = (
                        f"(AVAL - AVAL of the previous record) / (0.5 x (A1HI - A1LO)) of "
                        f"parameter {base}, over its records where {_cond(d['select'])} in order "
                        f"of {', '.join(str(v) for v in d.get('order', ['ADT']))}"
                        f"{dec if 'decimals' in d else ''}; blank on the first such record, at "
                        "baseline and where the range has no width"
                    )
    tail = ""
    if primary is not None:
        tail = f"; on the {primary['missing']} record, the baseline value (BASE)"
    if extra_words:
        tail += "; " + "; ".join(extra_words)
    out = []
    text: str | None
    for code in codes:
        if code in responders:
            text = responders[code]
        elif code in derived:
            text = derived[code] + ("; " + "; ".join(extra_words) if extra_words else "")
        else:
            text = aval.get(code, aval.get("*"))
            if text is None:
                continue
            text += tail
        out.append(ValueLevel("AVAL", code, origin="Derived", method=text))
    return out


# ------------------------------------------------------------------------------ OCCDS


def _occds(spec: SpecMap) -> dict[str, Said]:
    src = str(spec["source"])
    out: dict[str, Said] = {v: Said("Predecessor", f"{src}.{v}") for v in ("STUDYID", "USUBJID")}
    for v in spec.get("copy", []):
        out[str(v)] = Said("Predecessor", f"{src}.{v}", at=f"{spec.where('copy')}: copy {src}.{v}")
    out.update({str(v): Said("Predecessor", f"ADSL.{v}") for v in spec.get("adsl", [])})
    _cite(out, f"{spec.where('adsl')}: from ADSL", [str(v) for v in spec.get("adsl", [])])
    for target, source in (spec.get("treatment") or {}).items():
        out[str(target)] = Said("Predecessor", f"ADSL.{source}", at=_at(spec, "treatment"))
    dt = spec.get("dates")
    if dt is not None:
        highest = str(dt.get("highest", "M"))
        start, end = str(dt["start"]), str(dt["end"])
        lo, hi = dt.get("min_date"), dt.get("max_date")
        cap = (
            f"; an imputed end after {hi} is set to {hi} when {hi} is within the range the "
            "partial date can span"
            if hi
            else ""
        )
        inside = f", or {lo} when the range the partial date can span contains it" if lo else ""
        out["ASTDT"] = _derived(
            f"The {SAS_DATE} of {src}.{start}; {_imputation(highest, 'first')}{inside}; an "
            "imputed start after AENDT is set to AENDT"
        )
        out["ASTDTF"] = _derived(_flag_text("ASTDT", start))
        out["AENDT"] = _derived(
            f"The {SAS_DATE} of {src}.{end}; {_imputation(highest, 'last')}{cap}"
        )
        out["AENDTF"] = _derived(_flag_text("AENDT", end))
        for var, date in (("ASTDY", "ASTDT"), ("AENDY", "AENDT")):
            out[var] = _derived(
                f"{date} - TRTSDT + 1 when {date} is on or after TRTSDT, else {date} - TRTSDT "
                "(there is no day 0); blank when either is missing"
            )
        _cite(out, _at(spec, "dates"), ("ASTDT", "ASTDTF", "AENDT", "AENDTF", "ASTDY", "AENDY"))
    tem = spec.get("trtemfl")
    if tem is not None:
        window = int(tem.get("end_window", 0))
        end = f"TRTEDT + {window} days" if window else "TRTEDT"
        missing = (
            "an event without ASTDT is emergent unless its AENDT is before TRTSDT"
            if str(tem.get("missing_start", "emergent")) == "emergent"
            else "an event without ASTDT is not flagged"
        )
        out["TRTEMFL"] = _derived(
            f"Y when ASTDT is on or after TRTSDT and no later than {end} (a missing TRTEDT "
            f"counts as ongoing); {missing}; never for an untreated subject (no TRTSDT); "
            "blank otherwise"
        )
        _cite(out, _at(spec, "trtemfl"), ("TRTEMFL",))
    for occ in spec.get("occurrence") or []:
        where = f" among records where {_cond(occ['where'])}" if occ.get("where") else ""
        mode = str(occ.get("mode", "first"))
        out[str(occ["flag"])] = _derived(
            f"Y on the {mode} record per {', '.join(str(v) for v in occ['by'])} ordered by "
            f"{', '.join(str(v) for v in occ['order'])} (missing values last, then record "
            f"order){where}; blank otherwise",
        )
        _cite(out, f"{occ.where()}: occurrence flag {occ['flag']}", (str(occ["flag"]),))
    return out


# ------------------------------------------------------------------------------ entry


def describe_adam(spec: SpecMap, frame: pd.DataFrame) -> tuple[dict[str, Said], list[ValueLevel]]:
    r"""Describe every variable of an ADaM dataset: origin, predecessor and method (define.xml).

    The description follows the spec that derived the dataset; a spec ``metadata:`` method
    overrides the generated one. For a BDS the value-level AVAL methods come too.

    Args:
        spec: the dataset's spec (``cdisc_umsc.metadata.specfile.load_spec_file``).
        frame: the derived dataset (every column gets a description).

    Returns:
        ``(variable -> Said, value-level list)``. A derived variable the spec gives no
        derivation for, or a method in non-ASCII text, raises InputError naming the spec file.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import pandas as pd
        >>> from cdisc_umsc.metadata.specfile import load_spec_file
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = Path(tmp.name) / "adsl.yaml"
        >>> _ = path.write_text(
        ...     "dataset: ADSL\nstructure: ADSL\nlabel: Subject-Level\n"
        ...     "keys: [STUDYID, USUBJID]\ncopy: [STUDYID, USUBJID, AGE]\n"
        ...     "variables:\n  SAFFL: {flag: {when: {AGE: {gt: 18}}}}\n")
        >>> adsl = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-1"], "AGE": [64.0],
        ...                      "SAFFL": ["Y"]})
        >>> said, levels = describe_adam(load_spec_file(path), adsl)
        >>> said["SAFFL"].origin, said["SAFFL"].method, said["AGE"].source, levels
        ('Derived', 'Y if AGE > 18, else N', 'DM.AGE', [])
        >>> tmp.cleanup()
    """
    structure = str(spec["structure"])
    levels: list[ValueLevel] = []
    if structure == "ADSL":
        said = _adsl(spec)
    elif structure == "BDS":
        said, levels = _bds(spec, frame)
    else:
        said = _occds(spec)
    overrides: SpecMap = spec.get("metadata") or SpecMap()
    for var, ov in overrides.items():
        if isinstance(ov, SpecMap) and ov.get("method"):
            old = said.get(var)
            origin = "Derived" if old is None or old.origin == "Predecessor" else old.origin
            said[var] = Said(
                str(ov.get("origin") or origin),
                None,
                str(ov["method"]),
                # the derivation is still the one the spec declares; only its words change
                old.at if old is not None and old.at else f"{overrides.where(var)}: metadata",
            )
    for var in frame.columns:
        s = said.get(var)
        if s is not None and s.at is None:
            said[var] = replace(s, at=f"{spec.where()}: dataset {spec['dataset']}")
        if s is None or (s.origin == "Derived" and not s.method):
            raise InputError(
                f"{spec.where()}: {spec['dataset']}.{var} is derived but the spec states no "
                f"derivation for it; describe it with metadata: {{{var}: {{method: ...}}}}"
            )
        text = s.method or ""
        if not text.isascii():
            bad = "".join(c for c in text if not c.isascii())
            raise InputError(
                f"{spec.where()}: {spec['dataset']}.{var}: its define.xml method would show the "
                f"non-ASCII text {bad!r}; describe it in ASCII with metadata: {{{var}: "
                "{method: ...}}"
            )
    return said, levels
