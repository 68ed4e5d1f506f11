"""Poison entries: what real (and hostile) feeds put in an entry, served from the local feed
server among normal entries, through `pipeline.run_once` (the CLI's code path).

Every case runs twice. After each run: every entry the fetch saw is in news.articles (its staged
row merged as new / updated / sighting) or in news.rejects with a reason, and entries_seen says
so; nothing is left pending; the normal entries' titles and summaries are stored exactly as
served, each under its own URL (nothing lost or swapped). The second run serves the poison again
with new normal entries, which must load: no poison blocks a later run. A second, clean feed
polled alongside ("neighbour") must load untouched every time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest

from newswatch.pipeline import run_once
from tests.chaos.support import account_for_runs, assert_texts_as_served, query, scalar
from tests.helpers import item, rss

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]
CHAOS_KIND = "poison entry"

WHEN = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def normal_item(n: int) -> dict:
    """A normal entry whose link is already canonical, so its article's URL is its link."""
    return item(n, link=f"https://normal.example.com/world/story-{n}")


def served_text(entries: list[dict]) -> dict[str, tuple[str, str]]:
    return {e["link"]: (e["title"], e["summary"]) for e in entries}


# --- documents: normal entries with the poison spliced in after the first one ----------------


def rss_item(
    title: str | None = None,
    link: str | None = None,
    guid: str | None = None,
    description: str | None = None,
    pub_date: str | None = None,
    extra: str = "",
) -> str:
    """An RSS <item> from text used verbatim (the caller escapes what should be escaped, and
    leaves in what a broken feed would send)."""
    parts = ["<item>"]
    if title is not None:
        parts.append(f"<title>{title}</title>")
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    if description is not None:
        parts.append(f"<description>{description}</description>")
    if pub_date is not None:
        parts.append(f"<pubDate>{pub_date}</pubDate>")
    parts.append(extra + "</item>")
    return "".join(parts)


def rss_document(normal: list[dict], poison: list[str]) -> bytes:
    body = rss(normal, extra_channel="").decode("utf-8")
    body = body.replace(
        '<rss version="2.0">', '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">', 1
    )
    cut = body.index("</item>") + len("</item>")
    return (body[:cut] + "".join(poison) + body[cut:]).encode("utf-8")


def json_item(entry: dict) -> str:
    return json.dumps(
        {
            "id": entry["link"],
            "url": entry["link"],
            "title": entry["title"],
            "summary": entry["summary"],
            "date_published": entry["when"].isoformat(),
        }
    )


def json_document(normal: list[dict], poison: list[str]) -> bytes:
    """A JSON Feed; the poison items are JSON text as written (\\ud800 escapes, 1e999 and all)."""
    items = [json_item(normal[0]), *poison, *(json_item(e) for e in normal[1:])]
    return (
        '{"version": "https://jsonfeed.org/version/1.1", "title": "Poison JSON", "items": [' + ", ".join(items) + "]}"
    ).encode("utf-8")


def atom_entry(entry: dict, with_id: bool = True) -> str:
    return (
        f"<entry><title>{escape(entry['title'])}</title>"
        + (f"<id>urn:chaos:{escape(entry['link'])}</id>" if with_id else "")
        + f'<link href="{escape(entry["link"])}"/><updated>{entry["when"].isoformat()}</updated>'
        f"<summary>{escape(entry['summary'])}</summary></entry>"
    )


def atom_document(normal: list[dict], poison: list[str]) -> bytes:
    entries = [atom_entry(normal[0]), *poison, *(atom_entry(e) for e in normal[1:])]
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Poison Atom</title><id>urn:chaos:feed</id><updated>2026-11-27T08:00:00Z</updated>"
        + "".join(entries)
        + "</feed>"
    ).encode("utf-8")


FORMATS = {
    "rss": (rss_document, "/poison.xml"),
    "json": (json_document, "/poison.json"),
    "atom": (atom_document, "/poison.atom"),
}


# --- the cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Poison:
    id: str
    what: str
    entries: tuple[str, ...]  # the poison, as it appears in the document
    format: str = "rss"
    rejects: tuple[str, ...] = ()  # the reasons news.rejects must give, one per rejected entry
    loads: int = 0  # distinct articles the poison must become, over both runs
    later_entries: tuple[str, ...] | None = None  # what the second poll serves instead (default: the same)
    document: Callable[[list[dict], bool], bytes] | None = None  # a whole document instead of the splice
    feed_error: str | None = None  # the document as a whole is refused with this error_class
    served: dict = field(default_factory=dict)  # poison entries' canonical URL -> (title, summary) to expect
    check: Callable[[str, str], None] | None = None  # more assertions: (dsn, poison feed URL)

    def build(self, normal: list[dict], later: bool) -> bytes:
        if self.document is not None:
            return self.document(normal, later)
        poison = self.later_entries if later and self.later_entries is not None else self.entries
        return FORMATS[self.format][0](normal, list(poison))

    def entry_count(self, later: bool) -> int:
        poison = self.later_entries if later and self.later_entries is not None else self.entries
        return len(poison)


LONG_LINK = "https://poison.example.com/story?" + "&".join(f"p{i}=" + "x" * 20 for i in range(130))
FIVE_MB_BODY = escape("<p>" + "Beijing and Washington exchanged proposals. " * 120_000 + "</p>")


def published_from_first_seen(*urls: str):
    """The untrustworthy date was not used: published_at fell back to when the entry was seen."""

    def check(dsn: str, feed_url: str) -> None:
        got = dict(
            query(
                dsn,
                "SELECT canonical_url, published_at_source FROM news.articles WHERE canonical_url = ANY(%s)",
                (list(urls),),
            )
        )
        assert got == dict.fromkeys(urls, "first_seen")
        years = [r[0] for r in query(dsn, "SELECT extract(year FROM published_at)::int FROM news.articles")]
        assert all(1995 <= y <= datetime.now(UTC).year for y in years), years

    return check


def no_unstorable_characters(dsn: str, feed_url: str) -> None:
    bad = query(
        dsn,
        r"SELECT canonical_url FROM news.articles WHERE title ~ '[\x01-\x08]' "
        r"OR summary ~ '[\x01-\x08]' OR canonical_url ~ '\s'",
    )
    assert bad == []


def relative_link_resolved_against_the_feed(dsn: str, feed_url: str) -> None:
    origin = urlsplit(feed_url)
    expected = f"https://{origin.hostname}:{origin.port}/world/relative-story"
    assert query(dsn, "SELECT title FROM news.articles WHERE canonical_url = %s", (expected,)) == [
        ("Relative link story from the desk",)
    ]


def sighting_without_guid(dsn: str, feed_url: str) -> None:
    assert query(
        dsn,
        "SELECT s.guid FROM news.article_sightings s JOIN news.articles a USING (article_id) "
        "WHERE a.canonical_url = 'https://poison.example.com/atom-no-id'",
    ) == [(None,)]


def recycled_guid_made_a_new_article(dsn: str, feed_url: str) -> None:
    assert scalar(dsn, "SELECT count(*) FROM news.article_revisions") == 0
    assert scalar(dsn, "SELECT guid_reuse_count FROM news.feeds WHERE name = 'poison'") >= 1


def one_article_with_one_of_the_texts(dsn: str, feed_url: str) -> None:
    texts = query(
        dsn, "SELECT title, summary FROM news.articles WHERE canonical_url = %s", ("https://poison.example.com/twice",)
    )
    assert texts in (
        [("Same link first text here", "First text.")],
        [("Same link second text here", "Second text.")],
    ), texts


def items_not_a_list(normal: list[dict], later: bool) -> bytes:
    """`"items": {}` holding the entries under keys: the whole document is refused (then
    fixed by the publisher for the second poll)."""
    if later:
        return json_document(normal, [])
    items = {str(i): json.loads(json_item(e)) for i, e in enumerate(normal)}
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}).encode()


def _date(year_text: str) -> str:
    return f"Mon, 01 Jan {year_text} 00:00:00 GMT"


CASES = [
    Poison(
        "url_3000_chars",
        "a 3,300-character link (long query string)",
        (rss_item("Long link story about trade", escape(LONG_LINK), description="Long link."),),
        rejects=("url_too_long",),
    ),
    Poison(
        "guid_2kb",
        "a 2,100-byte GUID",
        (rss_item("Long guid story about trade", "https://poison.example.com/long-guid", guid="g" * 2100),),
        rejects=("guid_too_long",),
    ),
    Poison(
        "nul_bytes_rss",
        "NUL bytes in an RSS item's title, description and link",
        (
            rss_item(
                "Tariff\x00 talks resume in Geneva",
                "https://poison.example.com/nul\x00-link",
                description="Talks\x00 resumed on Friday.",
            ),
        ),
        loads=1,
        served={"https://poison.example.com/nul-link": ("Tariff talks resume in Geneva", "Talks resumed on Friday.")},
        check=no_unstorable_characters,
    ),
    Poison(
        "nul_bytes_json",
        "\\u0000 in a JSON Feed item's title, summary and url",
        (
            (
                '{"id": "nul", "url": "https://poison.example.com/nul\\u0000-json", '
                '"title": "Tariff\\u0000 talks in Geneva", "summary": "Talks\\u0000 resumed."}'
            ),
        ),
        format="json",
        loads=1,
        served={"https://poison.example.com/nul-json": ("Tariff talks in Geneva", "Talks resumed.")},
        check=no_unstorable_characters,
    ),
    Poison(
        "lone_surrogates_json",
        "lone surrogates (\\ud800, \\udfff) in a JSON Feed item's text",
        (
            (
                '{"id": "sur", "url": "https://poison.example.com/surrogate", '
                '"title": "Beijing \\ud800responds to tariffs", "summary": "Officials\\udfff said more."}'
            ),
        ),
        format="json",
        loads=1,
        served={"https://poison.example.com/surrogate": ("Beijing responds to tariffs", "Officials said more.")},
    ),
    Poison(
        "json_wrong_types",
        'JSON Feed items with "title": 12345, "summary": ["x"] and "url": 7',
        (
            '{"id": 1, "url": "https://poison.example.com/typed", "title": 12345, "summary": ["x"]}',
            '{"id": "2", "url": 7, "title": "A link that is a number"}',
        ),
        format="json",
        rejects=("missing_link", "missing_title"),
    ),
    Poison(
        "json_items_not_a_list",
        'a JSON Feed whose "items" is an object ({}), fixed on the next poll',
        (),
        format="json",
        document=items_not_a_list,
        feed_error="parse_error",
    ),
    Poison(
        "title_1mb",
        "a 1 MB title",
        (rss_item("A" * 1_048_576, "https://poison.example.com/huge-title"),),
        rejects=("title_too_long",),
    ),
    Poison(
        "content_encoded_5mb",
        "a 5 MB content:encoded body",
        (
            rss_item(
                "Huge body story about trade",
                "https://poison.example.com/huge-body",
                extra=f"<content:encoded>{FIVE_MB_BODY}</content:encoded>",
            ),
        ),
        rejects=("summary_too_long",),
    ),
    Poison(
        "year_99999",
        "a pubDate in the year 99999",
        (rss_item("Far year story about trade", "https://poison.example.com/y99999", pub_date=_date("99999")),),
        loads=1,
        check=published_from_first_seen("https://poison.example.com/y99999"),
    ),
    Poison(
        "year_1900_and_negative",
        "pubDates in 1900 and in year -1",
        (
            rss_item("Old year story about trade", "https://poison.example.com/y1900", pub_date=_date("1900")),
            rss_item(
                "Negative year story about trade", "https://poison.example.com/y-1", pub_date="-0001-01-01T00:00:00Z"
            ),
        ),
        loads=2,
        check=published_from_first_seen("https://poison.example.com/y1900", "https://poison.example.com/y-1"),
    ),
    Poison(
        "year_2999",
        "a pubDate in 2999",
        (rss_item("Future story about trade", "https://poison.example.com/y2999", pub_date=_date("2999")),),
        loads=1,
        check=published_from_first_seen("https://poison.example.com/y2999"),
    ),
    Poison(
        "empty_link",
        "an empty <link></link>",
        (rss_item("Empty link story about trade", ""),),
        rejects=("missing_link",),
    ),
    Poison(
        "javascript_link",
        "a javascript: link",
        (rss_item("Script link story about trade", "javascript:alert(document.cookie)"),),
        rejects=("bad_link",),
    ),
    Poison(
        "malformed_ipv6_link",
        "a link with a broken IPv6 host (http://[::1/broken)",
        (rss_item("Broken host story about trade", "http://[::1/broken"),),
        rejects=("bad_link",),
    ),
    Poison(
        "duplicate_guid_in_document",
        "two items with one GUID and different links and texts",
        (
            rss_item("First story under a shared guid", "https://poison.example.com/dup-a", "dup-1", "Text A."),
            rss_item("Second story under a shared guid", "https://poison.example.com/dup-b", "dup-1", "Text B."),
        ),
        loads=2,
        served={
            "https://poison.example.com/dup-a": ("First story under a shared guid", "Text A."),
            "https://poison.example.com/dup-b": ("Second story under a shared guid", "Text B."),
        },
    ),
    Poison(
        "guid_reused_on_later_poll",
        "a GUID given to another story (other link, other text) on the next poll",
        (
            rss_item(
                "US and China agree to resume trade talks",
                "https://poison.example.com/recycled-a",
                "rec-1",
                "Negotiators agreed to meet again in Geneva next month.",
            ),
        ),
        later_entries=(
            rss_item(
                "Panda cub born at the National Zoo",
                "https://poison.example.com/recycled-b",
                "rec-1",
                "Keepers said the cub is healthy.",
            ),
        ),
        loads=2,
        served={
            "https://poison.example.com/recycled-a": (
                "US and China agree to resume trade talks",
                "Negotiators agreed to meet again in Geneva next month.",
            ),
            "https://poison.example.com/recycled-b": (
                "Panda cub born at the National Zoo",
                "Keepers said the cub is healthy.",
            ),
        },
        check=recycled_guid_made_a_new_article,
    ),
    Poison(
        "same_link_twice",
        "one link twice in a document, with two different texts",
        (
            rss_item("Same link first text here", "https://poison.example.com/twice", "t-1", "First text."),
            rss_item("Same link second text here", "https://poison.example.com/twice", "t-2", "Second text."),
        ),
        loads=1,
        check=one_article_with_one_of_the_texts,
    ),
    Poison(
        "markup_only_title",
        "a title that is only markup (an <img onerror> and a <script>)",
        (
            rss_item(
                escape('<img src=x onerror="alert(1)"><script>alert(2)</script>'),
                "https://poison.example.com/markup",
                description="Markup only.",
            ),
        ),
        rejects=("missing_title",),
    ),
    Poison(
        "relative_link",
        "a relative link (/world/relative-story)",
        (rss_item("Relative link story from the desk", "/world/relative-story"),),
        loads=1,
        check=relative_link_resolved_against_the_feed,
    ),
    Poison(
        "atom_entry_without_id",
        "an Atom entry with no <id>",
        (
            atom_entry(
                {
                    "title": "Atom entry without an id",
                    "link": "https://poison.example.com/atom-no-id",
                    "summary": "No id here.",
                    "when": WHEN,
                },
                with_id=False,
            ),
        ),
        format="atom",
        loads=1,
        served={"https://poison.example.com/atom-no-id": ("Atom entry without an id", "No id here.")},
        check=sighting_without_guid,
    ),
    Poison(
        "link_whitespace_fragment",
        "an RSS <link> wrapped in newlines and spaces, with a #fragment",
        (
            rss_item(
                "Spaced link story about trade",
                "\n    https://poison.example.com/spaced#comments  \n",
                description="Spaced.",
            ),
        ),
        loads=1,
        served={"https://poison.example.com/spaced": ("Spaced link story about trade", "Spaced.")},
    ),
    Poison(
        "json_reject_surrogate_in_list",
        'a JSON Feed item with no url and "title": ["\\ud800"] (a reject)',
        ('{"id": "b", "title": ["\\ud800"]}',),
        format="json",
        rejects=("missing_link",),
    ),
    Poison(
        "json_reject_nul_in_list",
        'a JSON Feed item with "title": ["\\u0000"] (a reject)',
        ('{"id": "a", "url": "https://poison.example.com/nul-list", "title": ["\\u0000"]}',),
        format="json",
        rejects=("missing_title",),
    ),
    Poison(
        "json_reject_number_1e999",
        'a JSON Feed item with "title": 1e999 (infinite as a float; a reject)',
        ('{"id": "x", "url": "https://poison.example.com/inf", "title": 1e999}',),
        format="json",
        rejects=("missing_title",),
    ),
    Poison(
        "json_items_not_objects",
        "JSON Feed items that are not objects (null, 5, a string)",
        ("null", "5", '"text"'),
        format="json",
        rejects=("not_an_object",) * 3,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_poison_entry_is_loaded_or_rejected_and_never_blocks_a_later_run(
    case, feed_server, make_settings, dsn, figures
):
    figures.what = case.what
    path = FORMATS[case.format][1]
    first_normal = [normal_item(n) for n in (1, 2, 3)]
    later_normal = first_normal + [normal_item(n) for n in (4, 5)]
    neighbour_first = [normal_item(n) for n in (11, 12)]
    neighbour_later = [*neighbour_first, normal_item(13)]
    poison_url = feed_server.add_document(path, case.build(first_normal, later=False))
    neighbour_url = feed_server.add_document("/neighbour.xml", rss(neighbour_first))
    settings = make_settings({"poison": poison_url, "neighbour": neighbour_url})

    run_once(settings, "chaos-first", force=True)
    figures.count(account_for_runs(dsn, ["chaos-first"]))  # counted first: a failing check keeps them
    check_run(dsn, case, "chaos-first", len(first_normal), later=False)
    assert_texts_as_served(dsn, served_text(neighbour_first) | ({} if case.feed_error else served_text(first_normal)))

    # The poison is still in the feed on the next poll (as it would be), with new normal entries.
    feed_server.add_document(path, case.build(later_normal, later=True))
    feed_server.add_document("/neighbour.xml", rss(neighbour_later))
    run_once(settings, "chaos-later", force=True)
    figures.count(account_for_runs(dsn, ["chaos-first", "chaos-later"]))
    check_run(dsn, case, "chaos-later", len(later_normal), later=True)
    assert_texts_as_served(dsn, served_text(later_normal + neighbour_later) | case.served)

    articles = scalar(dsn, "SELECT count(*) FROM news.articles")
    assert articles == len(later_normal) + len(neighbour_later) + case.loads
    if case.check:
        case.check(dsn, poison_url)
    figures.checked = f"{articles} articles with the texts served; nothing pending after either run"


def check_run(dsn: str, case: Poison, run_id: str, normal_entries: int, *, later: bool) -> None:
    """One run's outcome: the poison feed's fetch as the case expects, every entry accounted for,
    nothing pending."""
    ((status, error_class, error, seen),) = query(
        dsn,
        "SELECT status, error_class, error, entries_seen FROM news.fetch_log "
        "WHERE run_id = %s AND feed_name = 'poison'",
        (run_id,),
    )
    served = normal_entries + case.entry_count(later)
    error_line = (error or "").partition("\n")[0][:200]
    if case.feed_error and not later:
        assert (status, error_class, seen) == ("error", case.feed_error, 0)
    else:
        assert (status, error_class) == ("ok", None), (
            f"the poison feed's fetch ended {status}/{error_class}, none of its {served} entries staged or "
            f"rejected: {error_line}"
        )
        assert seen == served, f"the fetch saw {seen} entries; the document carries {served}"
        reasons = [
            r
            for (r,) in query(
                dsn, "SELECT reason FROM news.rejects WHERE run_id = %s AND feed_name = 'poison'", (run_id,)
            )
        ]
        assert Counter(reasons) == Counter(case.rejects)
    assert query(dsn, "SELECT status FROM news.fetch_log WHERE run_id = %s AND feed_name = 'neighbour'", (run_id,)) == [
        ("ok",)
    ]
    assert account_for_runs(dsn, [run_id]).pending == 0
    assert scalar(dsn, "SELECT count(*) FROM news.staged_entries WHERE merged_at IS NULL") == 0
