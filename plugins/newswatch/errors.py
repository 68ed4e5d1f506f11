"""Every error newswatch raises on purpose, under one base, so a caller can catch "anything
newswatch refused" in one clause and the kinds a person must act on by their family:

    NewswatchError
    ├── ConfigError              a setting or file a person must fix (never retried)
    │   ├── FeedsFileError       the feeds file, with every problem and its line
    │   ├── RulesError           the relevance rules (topics.yaml, actors.yaml)
    │   └── WarehouseNotConfigured
    ├── WarehouseError           the warehouse refused what we asked
    │   └── MigrationError       a migration file or the applied history is inconsistent
    ├── LocalPostgresError       the embedded PostgreSQL of `make run` / the tests
    ├── FeedError                one feed's own problem; recorded as its outcome, never raised past the poll
    │   ├── FetchFailure         HTTP, network, size, time, SSRF guard (error_class says which)
    │   ├── HostBusy             the host's fetch slots stayed busy: the feed is skipped this run
    │   ├── NotAFeed             the document is something else (an HTML page, a JSON document)
    │   └── FeedParseError       looks like a feed, nothing could be recovered
    ├── EntryError               one entry's own problem; the entry becomes a reject
    │   └── UnusableURL          its link cannot name an article
    └── PageError                a request the analyst's pages cannot answer (its HTTP status)
        ├── BadRequest           400: a parameter the page cannot use, named in the message
        ├── PageNotFound         404: no such story or digest
        └── WarehouseUnavailable 503: the warehouse does not answer, or has no schema yet
"""

from __future__ import annotations

from pathlib import Path


class NewswatchError(Exception):
    """Base of every error newswatch raises deliberately."""


class ConfigError(NewswatchError, ValueError):
    """A configuration problem a person must fix; the message says where."""


class FeedsFileError(ConfigError):
    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{self.path}: {len(problems)} problem(s) in the feeds file:\n{listing}")


class RulesError(ConfigError):
    """The relevance rules cannot be loaded."""


class WarehouseNotConfigured(ConfigError):
    """No warehouse connection is configured."""


class WarehouseError(NewswatchError):
    pass


class MigrationError(WarehouseError):
    pass


class LocalPostgresError(NewswatchError, RuntimeError):
    pass


class FeedError(NewswatchError):
    """One feed's own problem: recorded in fetch_log as the feed's outcome."""


# The classes a feed's failure can fall in; `fetch_log.error_class` holds one of these (or
# `internal`, for a failure inside newswatch while handling the feed).
FETCH_ERROR_CLASSES = (
    "dns",
    "connect",
    "timeout",
    "tls",
    "http_4xx",
    "http_5xx",
    "too_large",
    "not_a_feed",
    "parse_error",
    "blocked",
    "redirect_loop",
    "gone",
    "rate_limited",
)


class FetchFailure(FeedError):
    def __init__(
        self, error_class: str, message: str, *, http_status: int | None = None, retry_after: float | None = None
    ):
        assert error_class in FETCH_ERROR_CLASSES, error_class
        super().__init__(message)
        self.error_class = error_class
        self.http_status = http_status
        self.retry_after = retry_after


class HostBusy(FeedError):
    """Every fetch slot of the feed's host stayed taken for the whole wait: try next run."""


class NotAFeed(FeedError):
    """The document is something else (usually an HTML page)."""


class FeedParseError(FeedError):
    """The document looks like a feed but nothing could be recovered from it."""


class EntryError(NewswatchError, ValueError):
    """One entry's own problem: it becomes a reject, its siblings load."""


class UnusableURL(EntryError):
    pass


class PageError(NewswatchError):
    """A request to the analyst's pages that cannot be answered; `status` is its HTTP status."""

    status = 500


class BadRequest(PageError, ValueError):
    """Input the page cannot use; the message says which parameter and why."""

    status = 400


class PageNotFound(PageError, LookupError):
    status = 404


class WarehouseUnavailable(PageError, RuntimeError):
    status = 503
