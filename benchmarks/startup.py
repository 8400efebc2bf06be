"""The start-up both benchmarks divide the bundled run by: the interpreter plus the modules a
``cdisc-umsc run`` imports (issue 19: "cdisc-umsc --version (interpreter + imports)").

``cdisc-umsc --version`` itself no longer imports pandas, numpy or the validate package (it
answers in ~0.08 s), so it is timed too and reported beside it, as ``bundled_vs_version``.
"""

from __future__ import annotations

import sys

#: what ``cdisc_umsc.run.run`` imports before and while it works (its lazy imports included)
RUN_IMPORTS = (
    "cdisc_umsc.cli",
    "cdisc_umsc.run",
    "cdisc_umsc.lineage",
    "cdisc_umsc.review",
    "cdisc_umsc.validate.engine",
    "cdisc_umsc.validate.outputs",
)


def imports_command() -> list[str]:
    """A fresh interpreter that imports :data:`RUN_IMPORTS` and exits."""
    return [sys.executable, "-c", "import " + ", ".join(RUN_IMPORTS)]
