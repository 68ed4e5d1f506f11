"""The article list's filters: parsed from the query string, checked, and turned back into links,
SQL parameters and a CSV file name. Bad input is a `BadRequest` with the reason (the app
answers 400 with it), never a 500.

Parameters (all optional; an empty value is the same as none, as an HTML form sends it):
  window      24h | 7d | 30d (default) | all       by publication time, up to now
  day         YYYY-MM-DD                          one UTC publication day (wins over window)
  from, to    YYYY-MM-DD                          a range of UTC days, both included (wins over window)
  topic       a topic name (config/topics.yaml)
  outlet      an outlet's name, exactly as the list shows it
  type        an outlet type (wire, us_press, ..., other)
  lang        en | zh | any (default)             other ISO 639 codes work too
  q           full-text search (websearch syntax: words, "a phrase", -word, or)
  scope       relevant (default) | all            all: also articles judged not relevant
  page, per   paging: page from 1, per in 25 | 50 | 100 | 200
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta

from ..config import OUTLET_TYPES
from ..errors import BadRequest

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30), "all": None}
WINDOW_LABELS = {"24h": "last 24 hours", "7d": "last 7 days", "30d": "last 30 days", "all": "any time"}
DEFAULT_WINDOW = "30d"
TYPES = (*OUTLET_TYPES, "other")
TYPE_LABELS = {
    "wire": "wire",
    "us_press": "US press",
    "international_press": "international press",
    "asian_press": "Asian press",
    "chinese_state_media": "Chinese state media",
    "government": "government",
    "think_tank": "think tank",
    "aggregator": "aggregator",
    "other": "other",
}
LANGUAGES = {"en": "English", "zh": "Chinese", "any": "any language"}
PER_PAGE = (25, 50, 100, 200)
DEFAULT_PER = 50
MAX_PAGE = 2000
MAX_Q = 200
CSV_MAX_ROWS = 100_000
PARAMS = ("window", "day", "from", "to", "topic", "outlet", "type", "lang", "q", "scope", "page", "per")
TOPIC_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
LANG_RE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class ArticleFilters:
    window: str | None = DEFAULT_WINDOW
    day: date | None = None
    date_from: date | None = None
    date_to: date | None = None
    topic: str | None = None
    outlet: str | None = None
    outlet_type: str | None = None
    language: str | None = None  # None: any
    q: str | None = None
    relevant_only: bool = True
    page: int = 1
    per: int = DEFAULT_PER

    # --- the period -----------------------------------------------------------------------
    def period(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """(since, until) in UTC; None: open."""
        if self.day:
            start = datetime.combine(self.day, time(0), tzinfo=UTC)
            return start, start + timedelta(days=1)
        if self.date_from or self.date_to:
            since = datetime.combine(self.date_from, time(0), tzinfo=UTC) if self.date_from else None
            until = datetime.combine(self.date_to, time(0), tzinfo=UTC) + timedelta(days=1) if self.date_to else None
            return since, until
        span = WINDOWS.get(self.window or DEFAULT_WINDOW)
        return (now - span if span else None), None

    def period_text(self) -> str:
        if self.day:
            return f"published on {self.day:%Y-%m-%d} (UTC)"
        if self.date_from and self.date_to:
            return f"published {self.date_from:%Y-%m-%d} to {self.date_to:%Y-%m-%d} (UTC)"
        if self.date_from:
            return f"published since {self.date_from:%Y-%m-%d} (UTC)"
        if self.date_to:
            return f"published up to {self.date_to:%Y-%m-%d} (UTC)"
        return (
            f"published in the {WINDOW_LABELS[self.window or DEFAULT_WINDOW]}"
            if (self.window or DEFAULT_WINDOW) != "all"
            else "published any time"
        )

    # --- back to a query string -------------------------------------------------------------
    def params(self, *, paging: bool = True, **changes) -> dict[str, str]:
        """The query parameters that give these filters (defaults left out), with `changes`
        (field names) applied."""
        f = replace(self, **changes) if changes else self
        out: dict[str, str] = {}
        if f.day:
            out["day"] = f"{f.day:%Y-%m-%d}"
        elif f.date_from or f.date_to:
            if f.date_from:
                out["from"] = f"{f.date_from:%Y-%m-%d}"
            if f.date_to:
                out["to"] = f"{f.date_to:%Y-%m-%d}"
        elif f.window and f.window != DEFAULT_WINDOW:
            out["window"] = f.window
        for key, value in (
            ("topic", f.topic),
            ("outlet", f.outlet),
            ("type", f.outlet_type),
            ("lang", f.language),
            ("q", f.q),
        ):
            if value:
                out[key] = value
        if not f.relevant_only:
            out["scope"] = "all"
        if paging:
            if f.page != 1:
                out["page"] = str(f.page)
            if f.per != DEFAULT_PER:
                out["per"] = str(f.per)
        return out

    def sql_params(self, now: datetime) -> dict:
        since, until = self.period(now)
        return {
            "relevant_only": self.relevant_only,
            "since": since,
            "until": until,
            "topic": self.topic,
            "outlet": self.outlet,
            "outlet_type": self.outlet_type,
            "language": self.language,
            "q": self.q,
        }

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per

    def csv_filename(self, now: datetime) -> str:
        """'newswatch-articles_2026-11-25_taiwan_en.csv': the filters in the name, safe characters only."""
        parts = ["newswatch-articles"]
        if self.day:
            parts.append(f"{self.day:%Y-%m-%d}")
        elif self.date_from or self.date_to:
            parts.append(f"{self.date_from or 'start'}_to_{self.date_to or now.date()}")
        else:
            parts.append(f"{self.window or DEFAULT_WINDOW}-to-{now:%Y-%m-%d}")
        for prefix, value in (
            ("", self.topic),
            ("outlet-", self.outlet),
            ("", self.outlet_type),
            ("", self.language),
            ("q-", self.q),
        ):
            if value:
                parts.append(prefix + _slug(value))
        if not self.relevant_only:
            parts.append("all-articles")
        return "_".join(p for p in parts if p)[:180] + ".csv"


def _slug(text: str) -> str:
    """ASCII letters, digits, - and _ only; a name with none of them (新华网) by a short hash."""
    slug = re.sub(r"[^A-Za-z0-9_]+", "-", text).strip("-").lower()
    if not slug:
        import hashlib

        slug = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return slug[:40]


def _one(params: Mapping[str, Sequence[str]], key: str) -> str | None:
    values = params.get(key) or []
    values = [v for v in values if v is not None]
    non_empty = [v for v in values if v.strip()]
    if len(non_empty) > 1:
        raise BadRequest(f"{key}: give it once (got {len(non_empty)} values)")
    if any("\x00" in v for v in values):  # PostgreSQL refuses it in any text parameter
        raise BadRequest(f"{key}: contains a NUL character")
    return non_empty[0].strip() if non_empty else None


# Days the period arithmetic can hold (the day after 9999-12-31 does not exist) and that mean
# something for news.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def _date(key: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{key}={value!r}: not a date; expected YYYY-MM-DD, e.g. 2026-11-25") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise BadRequest(f"{key}={value}: expected a day from {EARLIEST_DAY} to {LATEST_DAY}")
    return day


def _int(key: str, value: str | None, default: int, minimum: int, maximum: int) -> int:
    if value is None:
        return default
    if not re.fullmatch(r"\d{1,9}", value):
        raise BadRequest(f"{key}={value!r}: expected a whole number from {minimum} to {maximum}")
    number = int(value)
    if not minimum <= number <= maximum:
        raise BadRequest(f"{key}={value}: expected a whole number from {minimum} to {maximum}")
    return number


def parse_filters(params: Mapping[str, Sequence[str]], *, allowed_extra: Sequence[str] = ()) -> ArticleFilters:
    """The filters from a query string given as {name: [values]} (what parse_qs returns and what
    Starlette's QueryParams.multi_items gives, grouped). Raises BadRequest with the reason."""
    unknown = sorted(set(params) - set(PARAMS) - set(allowed_extra))
    if unknown:
        raise BadRequest(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"the article list takes {', '.join(PARAMS)}"
        )
    window = _one(params, "window")
    if window is not None and window not in WINDOWS:
        raise BadRequest(f"window={window!r}: expected one of {', '.join(WINDOWS)}")
    day = _date("day", _one(params, "day"))
    date_from = _date("from", _one(params, "from"))
    date_to = _date("to", _one(params, "to"))
    if day and (date_from or date_to):
        raise BadRequest("give either day or from/to, not both")
    if date_from and date_to and date_from > date_to:
        raise BadRequest(f"from={date_from} is after to={date_to}")
    topic = _one(params, "topic")
    if topic is not None and not TOPIC_RE.match(topic):
        raise BadRequest(
            f"topic={topic!r}: not a topic name (lower-case letters, digits and _, as in config/topics.yaml)"
        )
    outlet = _one(params, "outlet")
    if outlet is not None and len(outlet) > 200:
        raise BadRequest("outlet: longer than 200 characters")
    outlet_type = _one(params, "type")
    if outlet_type is not None and outlet_type not in TYPES:
        raise BadRequest(f"type={outlet_type!r}: expected one of {', '.join(TYPES)}")
    lang = _one(params, "lang")
    if lang is not None:
        lang = lang.lower()
        if lang != "any" and not LANG_RE.match(lang):
            raise BadRequest(f"lang={lang!r}: expected en, zh or any (or another two- or three-letter language code)")
    q = _one(params, "q")
    if q is not None:
        q = " ".join(q.split())
        if len(q) > MAX_Q:
            raise BadRequest(f"q: the search is {len(q)} characters long; at most {MAX_Q}")
    scope = _one(params, "scope")
    if scope is not None and scope not in ("relevant", "all"):
        raise BadRequest(f"scope={scope!r}: expected relevant or all")
    page = _int("page", _one(params, "page"), 1, 1, MAX_PAGE)
    per = _int("per", _one(params, "per"), DEFAULT_PER, min(PER_PAGE), max(PER_PAGE))
    if per not in PER_PAGE:
        raise BadRequest(f"per={per}: expected one of {', '.join(map(str, PER_PAGE))}")
    return ArticleFilters(
        window=window or DEFAULT_WINDOW,
        day=day,
        date_from=date_from,
        date_to=date_to,
        topic=topic,
        outlet=outlet,
        outlet_type=outlet_type,
        language=None if lang in (None, "any") else lang,
        q=q or None,
        relevant_only=scope != "all",
        page=page,
        per=per,
    )


def grouped(items) -> dict[str, list[str]]:
    """[(name, value), ...] -> {name: [values]}."""
    out: dict[str, list[str]] = {}
    for key, value in items:
        out.setdefault(key, []).append(value)
    return out


def filters_as_dict(f: ArticleFilters) -> dict:
    """For the JSON answer: the filters as applied."""
    return {field.name: getattr(f, field.name) for field in fields(f)}
