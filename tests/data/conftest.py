"""Fixtures shared by the data tests."""

from __future__ import annotations

import pytest

import autodl.data.decode as decode_module


@pytest.fixture
def parse_calls(monkeypatch):
    """Count the real parse_example calls made in this process (a spy, not a stand-in)."""
    calls = []
    real = decode_module.parse_example

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(decode_module, "parse_example", spy)
    return calls
