"""Imports a package that does not exist."""

import autodl_no_such_package_for_tests  # noqa: F401


class Model:
    pass
