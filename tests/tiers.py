"""Each test tier's marker, applied to every test under the tier's folder (`pytest -m unit`, ...).

A `pytestmark` in a conftest.py applies to nothing, so each tier's conftest.py calls `mark_tier`
from its own pytest_collection_modifyitems; the hook sees the whole session's items, hence the
test on the path. The markers are declared in pyproject.toml (pytest runs with --strict-markers).
"""

from __future__ import annotations

from pathlib import Path

import pytest


def mark_tier(items: list[pytest.Item], conftest_file: str, marker: str) -> None:
    folder = Path(conftest_file).resolve().parent
    mark = getattr(pytest.mark, marker)
    for item in items:
        if item.path.is_relative_to(folder):
            item.add_marker(mark)
