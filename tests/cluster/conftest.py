"""Every test under tests/cluster is marked `cluster` (tests/tiers.py)."""

import pytest

from tests.tiers import mark_tier


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by -m
def pytest_collection_modifyitems(items):
    mark_tier(items, __file__, "cluster")
