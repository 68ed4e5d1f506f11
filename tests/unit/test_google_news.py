"""Google News links resolved to the publisher's page, against a local stand-in for Google that
answers the way the public decoders document Google answering."""

import base64
import json
from urllib.parse import parse_qs

import pytest

from newswatch import google_news
from newswatch.config import FetchSettings
from newswatch.dev.feedserver import FeedServer, Response
from newswatch.fetch import make_session

LOOPBACK = FetchSettings(allowed_networks=("127.0.0.0/8",), connect_timeout=2, read_timeout=2, deadline=4)
GID = "CBMiWkFVX3lxTE1hYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk"  # opaque: no URL inside
LINK = f"https://news.google.com/rss/articles/{GID}?oc=5"
PUBLISHER = "https://apnews.com/article/blinken-china-visit-0123456789abcdef"
PAGE = (
    b'<html><body><c-wiz><div jscontroller="aLI87" data-n-a-id="' + GID.encode() + b'" '
    b'data-n-a-ts="1717000000" data-n-a-sg="AZ5r3eRqSignature_-x"></div></c-wiz></body></html>'
)


def answer(url: str) -> bytes:
    inner = json.dumps(["garturlres", url, 1])
    return b")]}'\n\n" + json.dumps([["wrb.fr", "Fbv4je", inner, None, None, None, "generic"], ["di", 42]]).encode()


def test_the_id_of_a_google_news_link():
    assert google_news.article_id(LINK) == GID
    assert google_news.article_id(f"https://news.google.com/articles/{GID}") == GID
    assert google_news.article_id("https://apnews.com/rss/articles/x") is None
    assert google_news.article_id("https://news.google.com/topics/abc") is None


def test_decoding_params_and_the_answer_are_read():
    assert google_news.decoding_params(PAGE) == ("AZ5r3eRqSignature_-x", 1717000000)
    assert google_news.decoding_params(b"<html>consent wall</html>") is None
    assert google_news.publisher_url(answer(PUBLISHER)) == PUBLISHER
    assert google_news.publisher_url(answer("javascript:alert(1)")) is None
    assert google_news.publisher_url(b')]}\'\n\n[["er",null,null,null,null,400]]') is None
    assert google_news.publisher_url(b"<html>not json</html>") is None


def test_the_form_carries_id_timestamp_and_signature():
    form = google_news.batchexecute_form(GID, 1717000000, "sig")
    (row,) = json.loads(form["f.req"])[0]
    assert row[0] == "Fbv4je" and row[3] == "generic"
    request = json.loads(row[1])
    assert request[0] == "garturlreq" and request[2:] == [GID, 1717000000, "sig"]


@pytest.fixture
def google():
    server = FeedServer().start()
    server.add_handler(f"/articles/{GID}", lambda req: Response(200, {"Content-Type": "text/html"}, PAGE))
    server.add_handler(
        google_news.BATCHEXECUTE_PATH,
        lambda req: (
            Response(200, {"Content-Type": "application/json"}, answer(PUBLISHER))
            if req.method == "POST"
            else Response(405)
        ),
    )
    yield server
    server.stop()


def test_an_opaque_link_is_resolved_with_two_requests(google):
    session = make_session(LOOPBACK)
    found = google_news.resolve(LINK, session=session, settings=LOOPBACK, base=google.base_url)
    assert found.url == PUBLISHER and found.detail == "resolved through Google News"
    (posted,) = google.requests_for(google_news.BATCHEXECUTE_PATH)
    sent = json.loads(parse_qs(posted.body.decode())["f.req"][0])
    assert json.loads(sent[0][0][1])[2:] == [GID, 1717000000, "AZ5r3eRqSignature_-x"]
    assert posted.headers["user-agent"].startswith("newswatch/")


def test_a_refusal_is_unresolved_with_the_failed_request_kept(google):
    google.add_handler(f"/articles/{GID}", lambda req: Response(429, {"Retry-After": "120"}, b""))
    found = google_news.resolve(LINK, session=make_session(LOOPBACK), settings=LOOPBACK, base=google.base_url)
    assert found.url is None and found.failed is not None and found.failed.http_status == 429
    assert found.failed.retry_after == 120
    assert google.requests_for(google_news.BATCHEXECUTE_PATH) == []


def test_a_page_without_a_signature_is_tried_on_the_rss_path_then_given_up(google):
    html = {"Content-Type": "text/html"}
    google.add_handler(f"/articles/{GID}", lambda req: Response(200, html, b"<html>consent</html>"))
    google.add_handler(f"/rss/articles/{GID}", lambda req: Response(200, html, PAGE))
    found = google_news.resolve(LINK, session=make_session(LOOPBACK), settings=LOOPBACK, base=google.base_url)
    assert found.url == PUBLISHER
    google.add_handler(f"/rss/articles/{GID}", lambda req: Response(200, html, b"<html>consent</html>"))
    found = google_news.resolve(LINK, session=make_session(LOOPBACK), settings=LOOPBACK, base=google.base_url)
    assert found.url is None and "no decoding signature" in found.detail and found.failed is None
    assert len(google.requests_for(google_news.BATCHEXECUTE_PATH)) == 1  # only the first time


def test_an_old_link_is_read_offline_without_asking_google():
    url = b"https://www.reuters.com/world/china-talks/"
    token = base64.urlsafe_b64encode(b"\x08\x13\x22" + bytes([len(url)]) + url + b"\xd2\x01\x00").rstrip(b"=")
    found = google_news.resolve(
        f"https://news.google.com/rss/articles/{token.decode()}?oc=5",
        session=make_session(LOOPBACK),
        settings=FetchSettings(),  # any request would go to the internet: none is made
    )
    assert found.url == "https://www.reuters.com/world/china-talks/" and found.detail == "read from the link"
