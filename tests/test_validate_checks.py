"""The check registry (validate/checks.py): every catalogue rule has exactly one check and
every check a rule; a disagreement names both sides."""

from __future__ import annotations

import pytest

from cdisc_umsc.validate import catalogue
from cdisc_umsc.validate import checks as checks_module
from cdisc_umsc.validate.catalogue import CatalogueError, rules


def test_every_rule_has_one_check() -> None:
    found = checks_module.checks()
    assert set(found) == {r.id for r in rules()}
    assert callable(found["UMSC-SD0001"])
    assert found["UMSC-SD0001"].__name__ == "required_present"


def test_a_rule_without_a_check_and_a_check_without_a_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = checks_module.registered()
    registry.pop("UMSC-SD0001")
    registry["UMSC-ZZ9999"] = registry["UMSC-SD0002"]
    monkeypatch.setattr(checks_module, "registered", lambda: registry)
    with pytest.raises(CatalogueError) as err:
        checks_module.checks()
    assert str(err.value) == (
        "rules without a check: ['UMSC-SD0001']; checks without a rule: ['UMSC-ZZ9999']"
    )
    assert catalogue.registered().get("UMSC-SD0001") is not None  # the real registry untouched
