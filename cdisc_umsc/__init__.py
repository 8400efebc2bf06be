"""cdisc-umsc: raw CRF exports to CDISC SDTM and ADaM, driven by one metadata object.

The Python API (:mod:`cdisc_umsc.api`) is available from the package itself, imported on first
use so that ``import cdisc_umsc`` stays cheap::

    import cdisc_umsc

    study = cdisc_umsc.build_study()   # the bundled trial, in memory
    study.adam["ADSL"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdisc_umsc.core.version import __version__

if TYPE_CHECKING:  # for type checkers and editors; at run time the names load lazily
    from cdisc_umsc.api import (
        Dataset,
        Findings,
        Study,
        StudyRun,
        Trial,
        UmscError,
        build_study,
        bundled_trials,
        read_dataset_json,
        read_define,
        read_xpt,
        run_study,
        start_study,
        validate_folder,
        write_dataset_json,
        write_define,
        write_xpt,
    )

__all__ = [
    "__version__",
    "Dataset",
    "Findings",
    "Study",
    "StudyRun",
    "Trial",
    "UmscError",
    "build_study",
    "bundled_trials",
    "read_dataset_json",
    "read_define",
    "read_xpt",
    "run_study",
    "start_study",
    "validate_folder",
    "write_dataset_json",
    "write_define",
    "write_xpt",
]
_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    """The API's names, imported from cdisc_umsc.api when first asked for."""
    if name in _API:
        from cdisc_umsc import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cdisc_umsc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
