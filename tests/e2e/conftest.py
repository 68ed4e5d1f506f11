"""Every test under tests/e2e is marked `e2e` (tests/tiers.py)."""

import pytest

from tests.tiers import mark_tier


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by -m
def pytest_collection_modifyitems(items):
    mark_tier(items, __file__, "e2e")
