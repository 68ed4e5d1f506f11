"""Where a run's time goes: named stages timed with a context manager and summed.

Every poll records its stages in fetch_log.timings and the merge returns its own, so a run's
summary (and the benchmark, for the CLI and Airflow alike) can say what took the time."""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict


class Stopwatch:
    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)

    @contextlib.contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started

    def as_dict(self, digits: int = 4) -> dict[str, float]:
        return {stage: round(value, digits) for stage, value in self.seconds.items()}


def add_up(total: dict[str, float], more: dict[str, float] | None) -> dict[str, float]:
    for stage, value in (more or {}).items():
        total[stage] = round(total.get(stage, 0.0) + value, 4)
    return total
