"""Every docstring example of the package runs, one test per module.

The same as ``pytest --doctest-modules autodl`` (which also works), here so that the
README's test command runs them: a docstring example that no longer holds is a failure.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import autodl


def _modules() -> list[str]:
    names = [autodl.__name__]
    for info in pkgutil.walk_packages(autodl.__path__, prefix="autodl."):
        if not info.name.endswith(".__main__"):  # importing it runs the command
            names.append(info.name)
    return sorted(names)


def test_the_package_has_examples():
    finder = doctest.DocTestFinder()
    count = sum(
        len(t.examples) for name in _modules() for t in finder.find(importlib.import_module(name))
    )
    assert count >= 40, f"only {count} docstring examples found"


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures = []
    for test in finder.find(module):
        result = runner.run(test, out=failures.append)
        assert result.failed == 0, "".join(failures)
