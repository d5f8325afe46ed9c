"""Fixtures of the challenge tests."""

from __future__ import annotations

import pytest
from challenge_helpers import write_run


@pytest.fixture
def make_run():
    return write_run
