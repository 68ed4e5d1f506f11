"""The article list as CSV: RFC 4180 quoting (csv module, CRLF line ends), UTF-8, a header row,
the same columns for every filter. Cells a spreadsheet would run as a formula (a headline that
starts with =, +, - or @) are prefixed with an apostrophe, the usual defence against CSV
injection; nothing else is changed."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from .markup import utc

COLUMNS = (
    "article_id",
    "published_at",
    "first_seen_at",
    "outlet",
    "outlet_type",
    "language",
    "title",
    "topics",
    "relevance_score",
    "is_relevant",
    "story_id",
    "story_outlets",
    "story_articles",
    "text_status",
    "url",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _time(value: datetime | None) -> str:
    value = utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def csv_row(row: dict) -> list[str]:
    score = row.get("relevance_score")
    return [
        str(row["article_id"]),
        _time(row.get("published_at")),
        _time(row.get("first_seen_at")),
        _text(row.get("outlet")),
        row.get("outlet_type") or "",
        row.get("language") or "",
        _text(row.get("title")),
        ";".join(row.get("topics") or ()),
        "" if score is None else f"{float(score):.3f}",
        "true" if row.get("is_relevant") else "false",
        "" if row.get("story_id") is None else str(row["story_id"]),
        "" if row.get("story_outlets") is None else str(row["story_outlets"]),
        "" if row.get("story_articles") is None else str(row["story_articles"]),
        row.get("text_status") or "",
        _text(row.get("canonical_url")),
    ]


def articles_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(csv_row(row))
    return out.getvalue()
