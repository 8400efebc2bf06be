"""Pinnacle 21 Community SDTMIG rules written as declared conditions (validate/p21_rules.yaml).

Each entry becomes catalogue rule ``UMSC-P<P21 id>`` (SD0026 -> UMSC-PSD0026) with P21's
severity, evaluated by the declared-rule engine of :mod:`cdisc_umsc.validate.core_rules`
(the same operators the CORE rules use). Scope: ``domains`` (names, splits and ``SUPP--``),
``domains_excluded`` and ``classes``; the rules apply to every SDTMIG version.
"""

from __future__ import annotations

from functools import cache, partial
from importlib.resources import files

import yaml

from cdisc_umsc.validate.catalogue import CatalogueError, Rule, check, register_rules
from cdisc_umsc.validate.context import Context
from cdisc_umsc.validate.core_rules import OPERATORS, in_scope, make_check

_FIELDS = {"p21", "severity", "citation", "message", "domains", "domains_excluded", "classes"}
_FIELDS |= {"output", "conditions"}
VERSIONS = ["3.2", "3.3", "3.4"]


def rule_id(p21_id: str) -> str:
    """The catalogue id of a declared P21 rule: SD0026 -> UMSC-PSD0026."""
    return "UMSC-P" + p21_id


def _leaf(node: object, where: str) -> object:
    """YAML leaf {op, target, ...} -> the engine's {operator, value} form (recursively)."""
    if isinstance(node, list):
        return [_leaf(n, where) for n in node]
    if not isinstance(node, dict):
        raise CatalogueError(f"{where}: a condition is a mapping, not {node!r}")
    if "op" in node:
        op = node["op"]
        if op not in OPERATORS:
            raise CatalogueError(f"{where}: unknown operator {op!r}")
        return {"operator": op, "value": {k: v for k, v in node.items() if k != "op"}}
    unknown = set(node) - {"all", "any", "not"}
    if unknown or len(node) != 1:
        raise CatalogueError(f"{where}: expected one of all / any / not / op, got {sorted(node)}")
    key = next(iter(node))
    return {key: _leaf(node[key], where)}


@cache
def declared() -> tuple[tuple[dict, Rule], ...]:
    """(engine rule, catalogue Rule) of every entry of p21_rules.yaml."""
    with files(__package__).joinpath("p21_rules.yaml").open("rb") as fh:
        # the bundled catalogue (no spec: no positions needed): libyaml's parser where PyYAML
        # has it, six times faster than the pure-Python one
        entries = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []
    out = []
    for i, entry in enumerate(entries, start=1):
        where = f"validate/p21_rules.yaml entry {i}"
        extra = set(entry) - _FIELDS
        if extra or not {"p21", "severity", "citation", "message", "conditions"} <= set(entry):
            raise CatalogueError(f"{where}: unexpected or missing fields ({sorted(extra)})")
        rid = rule_id(entry["p21"])
        rule = {
            "core_id": rid,
            "message": entry["message"],
            "conditions": _leaf(entry["conditions"], where),
            "domains": {
                **({"Include": entry["domains"]} if entry.get("domains") else {}),
                **({"Exclude": entry["domains_excluded"]} if entry.get("domains_excluded") else {}),
            },
            "classes": {"Include": entry["classes"]} if entry.get("classes") else {},
            "output_variables": entry.get("output") or [],
            "sensitivity": "Record",
            "versions": VERSIONS,
        }
        out.append(
            (
                rule,
                Rule(
                    id=rid,
                    severity=entry["severity"],
                    dev_severity="",
                    scope="dataset",
                    applies="sdtm",
                    core_id="",
                    p21_id=entry["p21"],
                    citation=f"P21 {entry['p21']}; {entry['citation']}",
                    message=entry["message"],
                ),
            )
        )
    return tuple(out)


def _register() -> None:
    for rule, entry in declared():
        check(entry.id)(make_check(rule, entry.id))
        Context.rule_scopes[entry.id] = partial(in_scope, rule)
    register_rules(lambda: [entry for _, entry in declared()])


_register()
