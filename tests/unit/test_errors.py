"""Every error newswatch raises on purpose derives from one base (errors.NewswatchError), so a
caller can catch "anything newswatch refused" in one clause."""

import importlib
import inspect
import pkgutil

import newswatch
from newswatch.errors import NewswatchError

# needs playwright (a browser); defines no error
SKIP = {"newswatch.dev.screenshots"}
# a SystemExit on purpose: Airflow's task runner logs it in one line, without a traceback
NOT_AN_ERROR = {"newswatch.airflow_support.ExpectedFailure"}


def _modules():
    for info in pkgutil.walk_packages(newswatch.__path__, "newswatch."):
        if info.name not in SKIP:
            yield importlib.import_module(info.name)


def test_every_exception_class_newswatch_defines_derives_from_newswatch_error():
    defined = {
        cls
        for module in _modules()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseException)
        and cls.__module__.startswith("newswatch")
        and not cls.__name__.startswith("_")  # private control flow, caught where raised
    }
    assert len(defined) >= 15, sorted(c.__qualname__ for c in defined)  # the scan finds them
    strays = sorted(f"{c.__module__}.{c.__qualname__}" for c in defined if not issubclass(c, NewswatchError))
    assert strays == sorted(NOT_AN_ERROR), strays
