"""The rule catalogue (validate/catalogue.py): rules.csv rows validated with their line, the
registry refusing a rule registered twice, profiles and severities."""

from __future__ import annotations

import pytest

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.validate import catalogue
from cdisc_umsc.validate.catalogue import CatalogueError, Rule, _validate_row, csv_rules, rule


def row(**changes: str) -> dict[str, str]:
    base = {
        "id": "UMSC-XX0001",
        "severity": "error",
        "dev_severity": "",
        "scope": "dataset",
        "applies": "any",
        "core_id": "",
        "p21_id": "",
        "citation": "SDTMIG 3.4",
        "message": "Something is wrong",
    }
    return base | changes


def test_rules_csv_in_file_order_with_valid_rows() -> None:
    rules = csv_rules()
    assert rules[0].id == "UMSC-MD0001" and rules[-1].id == "UMSC-PA0001"
    assert len(rules) == 65
    assert all(r.id.startswith("UMSC-") and r.citation and r.message for r in rules)


def test_rule_by_id_and_unknown_id() -> None:
    assert rule("UMSC-SD0003") == Rule(
        "UMSC-SD0003",
        "warning",
        "notice",
        "dataset",
        "sdtm",
        "CORE-000334",
        "SD0057",
        "SDTMIG 3.4 4.1.5",
        "Expected variable is missing from the dataset",
    )
    with pytest.raises(CatalogueError, match="has no rule 'UMSC-NOPE'"):
        rule("UMSC-NOPE")


def test_severity_for_a_profile() -> None:
    r = rule("UMSC-SD0003")
    assert r.severity_for("submission") == "warning"
    assert r.severity_for("development") == "notice"
    assert rule("UMSC-SD0001").severity_for("development") == "error"  # no dev severity
    with pytest.raises(InputError, match="unknown validation profile 'draft'"):
        r.severity_for("draft")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "XX0001"}, "expected an UMSC- id, a message and a citation"),
        ({"message": ""}, "expected an UMSC- id"),
        ({"citation": ""}, "expected an UMSC- id"),
        ({"severity": "fatal"}, "column severity: 'fatal' is not one of"),
        ({"scope": "record"}, "column scope: 'record'"),
        ({"applies": "send"}, "column applies: 'send'"),
        ({"dev_severity": "low"}, "column dev_severity: 'low'"),
    ],
)
def test_malformed_rows_are_refused_with_their_line(changes: dict, message: str) -> None:
    bad = row(**changes)
    with pytest.raises(CatalogueError, match=message) as err:
        _validate_row(7, bad)
    assert str(err.value).startswith(f"validate/rules.csv line 7, rule {bad['id']!r}")


def test_a_good_row_becomes_a_rule() -> None:
    assert _validate_row(2, row(dev_severity="notice")).dev_severity == "notice"


def test_a_rule_registered_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalogue, "_CHECKS", {})

    def first(ctx):  # pragma: no cover (never run)
        return iter(())

    catalogue.check("UMSC-XX0001")(first)
    assert catalogue.registered() == {"UMSC-XX0001": first}
    with pytest.raises(CatalogueError, match=r"rule UMSC-XX0001: registered twice \(first\)"):
        catalogue.check("UMSC-XX0001")(first)


def test_providers_add_rules_and_duplicates_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = Rule(**row(id="UMSC-XX0009"))
    monkeypatch.setattr(catalogue, "_PROVIDERS", [])
    catalogue.rules.cache_clear()
    try:
        catalogue.register_rules(lambda: [extra])
        assert catalogue.rules()[-1] == extra
        assert catalogue.rules()[: len(csv_rules())] == csv_rules()
        catalogue.register_rules(lambda: [extra])
        with pytest.raises(CatalogueError, match=r"duplicate rule ids \['UMSC-XX0009'\]"):
            catalogue.rules()
    finally:
        monkeypatch.undo()
        catalogue.rules.cache_clear()
