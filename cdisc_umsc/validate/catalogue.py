"""The rule catalogue (rules.csv: id, severity, citation, CORE / P21 ids) and the check registry.

Each rule is a row of data; its check is a small vectorised function registered under the
rule id with :func:`check`. Every catalogue row has exactly one check and vice versa.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.validate.findings import SEVERITIES

_SCOPES = ("dataset", "study")
_APPLIES = ("any", "sdtm", "adam")
_PROFILES = ("submission", "development")


class CatalogueError(InputError):
    """A rules.csv row that is malformed, or a rule without a check (or the reverse)."""


@dataclass(frozen=True)
class Rule:
    """One catalogue row."""

    id: str
    severity: str
    dev_severity: str
    scope: str
    applies: str
    core_id: str
    p21_id: str
    citation: str
    message: str

    def severity_for(self, profile: str) -> str:
        """The severity under a profile ("development" may downgrade)."""
        if profile not in _PROFILES:
            raise InputError(
                f"unknown validation profile {profile!r}; expected one of {', '.join(_PROFILES)}"
            )
        return (
            self.dev_severity if profile == "development" and self.dev_severity else self.severity
        )


#: Providers of rules that are data elsewhere (e.g. the bundled CORE rules), see rules().
_PROVIDERS: list[Callable[[], list[Rule]]] = []


def register_rules(provider: Callable[[], list[Rule]]) -> None:
    """Add the rules ``provider()`` returns to the catalogue (after rules.csv's)."""
    _PROVIDERS.append(provider)
    rules.cache_clear()


#: A check yields hit tables (dataset, row, variable, value, message); see Context.hits.
Check = Callable[..., Iterable[pd.DataFrame]]
_CHECKS: dict[str, Check] = {}


def check(rule_id: str) -> Callable[[Check], Check]:
    """Register `fn` as the check of catalogue rule `rule_id`."""

    def register(fn: Check) -> Check:
        if rule_id in _CHECKS:
            raise CatalogueError(f"rule {rule_id}: registered twice ({fn.__name__})")
        _CHECKS[rule_id] = fn
        return fn

    return register


def _validate_row(line: int, row: dict[str, str]) -> Rule:
    where = f"validate/rules.csv line {line}, rule {row['id']!r}"
    if not row["id"].startswith("UMSC-") or not row["message"] or not row["citation"]:
        raise CatalogueError(f"{where}: expected an UMSC- id, a message and a citation")
    for col, allowed in (("severity", SEVERITIES), ("scope", _SCOPES), ("applies", _APPLIES)):
        if row[col] not in allowed:
            raise CatalogueError(f"{where}, column {col}: {row[col]!r} is not one of {allowed}")
    if row["dev_severity"] not in ("", *SEVERITIES):
        raise CatalogueError(f"{where}, column dev_severity: {row['dev_severity']!r}")
    return Rule(**row)


@cache
def csv_rules() -> tuple[Rule, ...]:
    """The rules of validate/rules.csv, in file order (the project's own wording)."""
    with files(__package__).joinpath("rules.csv").open("rb") as fh:
        frame = pd.read_csv(fh, dtype=str, keep_default_na=False, na_filter=False)
    return tuple(_validate_row(i + 2, r) for i, r in enumerate(frame.to_dict("records")))


@cache
def rules() -> tuple[Rule, ...]:
    """The catalogue: rules.csv, then the rules of the providers (parsed and checked once)."""
    found = csv_rules()
    for provider in _PROVIDERS:
        found += tuple(provider())
    ids = pd.Series([r.id for r in found])
    dupes = ids[ids.duplicated()].tolist()
    if dupes:
        raise CatalogueError(f"rule catalogue: duplicate rule ids {dupes}")
    return found


def rule(rule_id: str) -> Rule:
    """One catalogue rule by id."""
    for r in rules():
        if r.id == rule_id:
            return r
    raise CatalogueError(f"validate/rules.csv has no rule {rule_id!r}")


def registered() -> dict[str, Check]:
    """The checks registered so far, by rule id (see :func:`cdisc_umsc.validate.checks.checks`)."""
    return dict(_CHECKS)
