"""The full-text step's pure decisions: back-off, robots.txt readings, failures, a page's language."""

from datetime import timedelta

import pytest

from newswatch.extract import extract_article
from newswatch.fetch import FetchResult
from newswatch.fulltext import (
    BACKOFF_BASE,
    BACKOFF_MAX,
    RobotsPolicy,
    agent_token,
    backoff_after,
    failure_status,
    page_language,
)


def answer(http_status=None, error_class=None, retry_after=None, status="error") -> FetchResult:
    return FetchResult(
        "https://ex.com/a", status, http_status=http_status, error_class=error_class, retry_after=retry_after
    )


def test_backoff_doubles_per_failure_up_to_the_cap_even_after_years_of_failures():
    waits = [backoff_after(answer(503, "http_error"), n) for n in (0, 1, 2, 10, 60, 10_000)]
    assert waits[:3] == [BACKOFF_BASE, 2 * BACKOFF_BASE, 4 * BACKOFF_BASE]
    assert waits[3:] == [BACKOFF_MAX] * 3


def test_only_slow_down_answers_back_a_host_off_and_retry_after_can_lengthen_it():
    assert backoff_after(answer(404, "http_error"), 3) is None
    assert backoff_after(answer(200, status="ok"), 0) is None
    assert backoff_after(answer(429, "rate_limited", retry_after=7200), 0) == timedelta(hours=2)
    assert backoff_after(answer(429, "rate_limited", retry_after=10**9), 0) == BACKOFF_MAX


@pytest.mark.parametrize(
    "http_status, body, allowed, unreadable",
    [
        (200, "User-agent: *\nDisallow: /private/\n", True, False),
        (200, "", True, False),
        (404, None, True, False),  # missing: everything allowed
        (410, None, True, False),
        (429, None, False, True),  # "slow down" is not "missing"
        (503, None, False, True),
        (None, None, False, True),  # no answer
    ],
)
def test_robots_txt_readings(http_status, body, allowed, unreadable):
    policy = RobotsPolicy.from_fetch(http_status, body)
    assert policy.allows("https://ex.com/news/a.html", "newswatch") is allowed
    assert bool(policy.unreadable) is unreadable


def test_robots_rules_and_crawl_delay_apply_to_our_token():
    policy = RobotsPolicy.from_fetch(200, "User-agent: newswatch\nDisallow: /x/\nCrawl-delay: 500\n")
    assert not policy.allows("https://ex.com/x/a", agent_token("newswatch/0.1 (+https://ex.org)"))
    assert policy.allows("https://ex.com/y/a", "newswatch")
    assert policy.crawl_delay("newswatch") == 60.0  # capped


def test_failure_status_names_what_went_wrong():
    assert failure_status(answer(200, status="ok")) is None
    assert failure_status(answer(None, "too_large"))[0] == "too_large"
    assert failure_status(answer(None, "blocked"))[0] == "blocked"
    assert failure_status(answer(500, "http_error"))[0] == "http_error"
    assert failure_status(answer(304, status="not_modified"))[0] == "http_error"


PARAGRAPHS = {
    "en": [
        "Negotiators from Washington and Beijing met again on Tuesday in Geneva to discuss tariffs, "
        "export controls and the timetable for the next round of talks, officials on both sides said.",
        "The meeting lasted more than six hours and ended without a joint statement, although a "
        "spokesman for the commerce ministry described the atmosphere as constructive and candid.",
    ],
    "de": [
        "Unterhändler aus Washington und Peking haben sich am Dienstag erneut in Genf getroffen, um "
        "über Zölle, Exportkontrollen und den Zeitplan für die nächste Verhandlungsrunde zu sprechen.",
        "Das Treffen dauerte mehr als sechs Stunden und endete ohne gemeinsame Erklärung, obwohl ein "
        "Sprecher des Handelsministeriums die Atmosphäre als konstruktiv und offen beschrieb.",
    ],
    "fr": [
        "Les négociateurs de Washington et de Pékin se sont de nouveau réunis mardi à Genève pour "
        "discuter des droits de douane, du contrôle des exportations et du calendrier des discussions.",
        "La réunion a duré plus de six heures et s'est terminée sans déclaration commune, même si un "
        "porte-parole du ministère du commerce a qualifié l'atmosphère de constructive et franche.",
    ],
}


def article_page(paragraphs: list[str], html_attributes: str = "") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    head = "<head><title>Talks</title></head>"
    return f"<!doctype html><html{html_attributes}>{head}<body><article>{body}</article></body></html>".encode()


@pytest.mark.parametrize("language", sorted(PARAGRAPHS))
def test_a_page_that_declares_no_language_is_told_by_its_text(language):
    page = extract_article(article_page(PARAGRAPHS[language]), url="https://ex.com/a")
    assert page.status == "ok" and page.language is None  # extract.py leaves it to us
    assert page_language(page) == language


def test_a_declared_language_stands_and_a_page_without_text_has_none():
    declared = extract_article(article_page(PARAGRAPHS["en"], ' lang="fr-CA"'), url="https://ex.com/a")
    assert page_language(declared) == "fr"  # the page's word, not a guess from its text
    empty = extract_article(b"<html><body><p>Subscribe</p></body></html>", url="https://ex.com/b")
    assert empty.status != "ok" and page_language(empty) is None
