"""Every check of the catalogue: importing the check modules registers them.

Kept apart from :mod:`cdisc_umsc.validate.catalogue` (which the check modules import for the
``check`` decorator) so that no module imports itself back.
"""

from __future__ import annotations

from cdisc_umsc.validate import (  # noqa: F401  (importing registers the checks)
    checks_adam,
    checks_cross,
    checks_ct,
    checks_layout,
    checks_p21,
    checks_structure,
    checks_timing,
    checks_values,
    core_rules,
    p21_rules,
    schema,
)
from cdisc_umsc.validate.catalogue import CatalogueError, Check, registered, rules


def checks() -> dict[str, Check]:
    """Rule id -> check function; fails when catalogue and registry disagree."""
    found = registered()
    ids = {r.id for r in rules()}
    if ids != set(found):
        raise CatalogueError(
            f"rules without a check: {sorted(ids - set(found))}; checks "
            f"without a rule: {sorted(set(found) - ids)}"
        )
    return found
