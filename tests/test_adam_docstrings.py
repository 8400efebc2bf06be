"""The ADaM package documents itself by run examples: every doctest in cdisc_umsc/adam/
passes, and every public function of its modules (the derivation library and the
spec-driven builders) has an ``Args:`` section and at least one ``>>>`` example."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import cdisc_umsc.adam

#: every module of the ADaM package, its doctests run
ALL_MODULES = sorted(
    f"cdisc_umsc.adam.{info.name}" for info in pkgutil.iter_modules(cdisc_umsc.adam.__path__)
)

#: modules whose every public function must carry Args and an example (all with one)
DOCUMENTED = [
    "cdisc_umsc.adam.derive",
    "cdisc_umsc.adam.dates",
    "cdisc_umsc.adam.flags",
    "cdisc_umsc.adam.ranges",
    "cdisc_umsc.adam.params",
    "cdisc_umsc.adam.visits",
    "cdisc_umsc.adam.compare",
    "cdisc_umsc.adam.adsl",
    "cdisc_umsc.adam.bds",
    "cdisc_umsc.adam.occds",
    "cdisc_umsc.adam.build",
    "cdisc_umsc.adam.inputs",
    "cdisc_umsc.adam.methods",
]


def _public_functions(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, obj in vars(module).items()
        if inspect.isfunction(obj)
        and not name.startswith("_")
        and obj.__module__ == module.__name__
    )


def test_module_list_is_complete() -> None:
    for name in DOCUMENTED:
        assert name in ALL_MODULES
    # every module with public functions is in DOCUMENTED (none is forgotten)
    with_functions = [n for n in ALL_MODULES if _public_functions(importlib.import_module(n))]
    assert sorted(with_functions) == sorted(DOCUMENTED)


@pytest.mark.parametrize("name", ALL_MODULES)
def test_doctests_pass(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, verbose=False, report=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


@pytest.mark.parametrize("name", DOCUMENTED)
def test_public_functions_have_args_and_example(name: str) -> None:
    module = importlib.import_module(name)
    functions = _public_functions(module)
    assert functions, f"{name} has no public function"
    undocumented = [
        fn
        for fn in functions
        if ">>>" not in (getattr(module, fn).__doc__ or "")
        or "Args:" not in (getattr(module, fn).__doc__ or "")
    ]
    assert undocumented == [], f"{name}: no Args section or no example in {undocumented}"
