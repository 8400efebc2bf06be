"""The declaration of an SDTM mapping algorithm: one place says everything about it.

An algorithm is declared once, by :func:`algorithm` on its function: the name the spec uses,
the stage it runs in, each parameter with its kind (what the spec checker verifies), its default
origin, a one-line summary and a YAML example (both printed in docs/spec-format.md and tested),
and how its method reads in define.xml. The spec checker, the documentation table, lineage and
the define writer all read these declarations; nothing restates them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from cdisc_umsc.metadata.spec import DomainSpec
    from cdisc_umsc.metadata.specfile import SpecMap
    from cdisc_umsc.sdtm.context import Build, Context

#: Stages, in the order the builder runs them across all domains.
STAGES = {0: "row", 1: "subject", 2: "records", 3: "timing", 4: "order"}

#: Parameter kinds the spec checker knows.
KINDS = {
    "field": "a raw field of the domain's form(s), or FORM.FIELD of another form",
    "fields": "a list of raw fields",
    "ref": "a variable of the domain, or a raw field of its form(s) (FORM.FIELD too)",
    "refs": "a list of variables or raw fields",
    "other": "DOMAIN.VARIABLE of another mapped domain",
    "others": "DOMAIN.VARIABLE, or a list of them, of mapped domains",
    "subject": "a variable of DM",
    "condition": "a condition (see Conditions)",
    "condition_of": "a condition on the records of the `of` domains (see Conditions)",
    "recode": "a recode table of codelists.yaml",
    "codelist": "a codelist: NCI C-code or submission value of the CT package, or a sponsor id",
    "dictionary": "a coding table declared under dictionaries:",
    "units": "a unit table of codelists.yaml",
    "setting": "a study setting (study: in study.yaml)",
    "template": "text with {NAME} placeholders (variables or raw fields)",
    "value": "a literal value (null for blank)",
    "choice": "one of the listed words",
    "flag": "true",
    "text": "free text",
    "integer": "a whole number",
    "algorithm": "another algorithm, e.g. {field: X}",
    "groups": "a mapping of label to a condition on the value ({} for any other value)",
}


@dataclass(frozen=True)
class Param:
    """One parameter: its kind, whether it is required, and for ``choice`` the words."""

    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""


Fn = Callable[["Context", "Build", "SpecMap", str], pd.Series]
Describe = Callable[["SpecMap", str], str]

#: Parameters every algorithm takes (metadata overrides and conditions).
COMMON: dict[str, Param] = {
    "label": Param("text", doc="variable label (overrides the IG)"),
    "length": Param("integer", doc="character length in bytes"),
    "codelist": Param("codelist", doc="codelist the values are checked against"),
    "origin": Param(
        "choice",
        choices=("Collected", "Derived", "Assigned", "Protocol", "Predecessor", "Not Available"),
    ),
    "method": Param("text", doc="define.xml method text (overrides the generated one)"),
    "comment": Param("text", doc="define.xml comment"),
    "when": Param("condition", doc="compute only for records meeting the condition"),
    "unless": Param("condition", doc="compute only for records not meeting the condition"),
    "else": Param("algorithm", doc="algorithm for the records the first gives no value"),
    "significant_digits": Param("integer"),
    "format": Param("text", doc="SAS display format"),
}


@dataclass(frozen=True)
class Algorithm:
    """A mapping algorithm as its declaration gives it."""

    name: str
    fn: Fn
    stage: int
    params: Mapping[str, Param]
    origin: str
    summary: str
    example: str
    describe: Describe
    #: values of a ``codelist:`` given with the algorithm are checked after it runs
    checks_codelist: bool = False
    #: the codelist define.xml names for the variable, when the algorithm decides it (an
    #: external dictionary): ``(p, var, domain spec) -> "EXT:name:version"`` or None
    define_codelist: Callable[[SpecMap, str, DomainSpec], str | None] | None = None
    #: parameters of which a variable spec gives exactly one (``recode`` reads ``field`` or
    #: ``fields``)
    one_of: tuple[str, ...] = ()

    @property
    def all_params(self) -> dict[str, Param]:
        return {**COMMON, **self.params}


ALGORITHMS: dict[str, Algorithm] = {}


def algorithm(
    name: str,
    *,
    kind: str,
    params: Mapping[str, Param] | None = None,
    stage: int = 0,
    origin: str = "Derived",
    summary: str,
    example: str,
    describe: Describe,
    checks_codelist: bool = False,
    choices: tuple[str, ...] = (),
    define_codelist: Callable[[SpecMap, str, DomainSpec], str | None] | None = None,
    one_of: tuple[str, ...] = (),
) -> Callable[[Fn], Fn]:
    """Register a mapping algorithm under the name the spec uses.

    ``kind`` (and ``choices``) is the kind of the algorithm's own key, e.g. ``{field: AETERM}``
    has a ``field`` key of kind ``field``.
    """
    if stage not in STAGES:
        raise ValueError(f"algorithm {name}: stage {stage} is not one of {sorted(STAGES)}")
    declared = {name: Param(kind, True, choices), **(params or {})}
    for pname, p in declared.items():
        if p.kind not in KINDS:
            raise ValueError(f"algorithm {name}: parameter {pname} has unknown kind {p.kind}")

    def register(fn: Fn) -> Fn:
        if name in ALGORITHMS:
            raise ValueError(f"algorithm {name} is declared twice")
        ALGORITHMS[name] = Algorithm(
            name,
            fn,
            stage,
            declared,
            origin,
            summary,
            example.strip(),
            describe,
            checks_codelist,
            define_codelist,
            one_of,
        )
        return fn

    return register


def algorithm_for(p: Mapping[str, Any]) -> Algorithm | None:
    """The algorithm a variable spec names: the one key whose parameters cover the others."""
    names = [k for k in p if k in ALGORITHMS]
    fits = [n for n in names if all(o in ALGORITHMS[n].params for o in names)]
    return ALGORITHMS[fits[0]] if len(fits) == 1 else None
