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
LINK = f"https://news.google.com/rss/articles/{GID}?oc=5&hl=en-US&gl=US&ceid=US:en"
PUBLISHER = "https://apnews.com/article/blinken-china-visit-0123456789abcdef"
PAGE = (
    b'<html><body><c-wiz><div jscontroller="aLI87" data-n-a-id="' + GID.encode() + b'" '
    b'data-n-a-ts="1717000000" data-n-a-sg="AZ5r3eRqSignature_-x"></div></c-wiz></body></html>'
)
HTML = {"Content-Type": "text/html"}
RSS_PAGE, WEB_PAGE = f"/rss/articles/{GID}", f"/articles/{GID}"


def answer(url: str) -> bytes:
    inner = json.dumps(["garturlres", url, 1])
    return b")]}'\n\n" + json.dumps([["wrb.fr", "Fbv4je", inner, None, None, None, "generic"], ["di", 42]]).encode()


def test_the_id_of_a_google_news_link():
    assert google_news.article_id(LINK) == GID
    assert google_news.article_id(f"https://news.google.com/articles/{GID}") == GID
    assert google_news.article_id(f"https://news.google.com/read/{GID}") == GID
    assert google_news.article_id("https://apnews.com/rss/articles/x") is None
    assert google_news.article_id("https://news.google.com/topics/abc") is None


def test_decoding_params_and_the_answer_are_read():
    assert google_news.decoding_params(PAGE) == ("AZ5r3eRqSignature_-x", 1717000000)
    assert google_news.decoding_params(b"<html>consent wall</html>") is None
    assert google_news.publisher_url(answer(PUBLISHER)) == PUBLISHER
    assert google_news.publisher_url(answer("javascript:alert(1)")) is None
    assert google_news.publisher_url(b')]}\'\n\n[["er",null,null,null,null,400]]') is None
    assert google_news.publisher_url(b"<html>not json</html>") is None
    assert google_news.publisher_url(b")]}'\n\n" + b"[" * 100_000 + b"]" * 100_000) is None  # too deep


def test_the_form_carries_id_timestamp_and_signature():
    form = google_news.batchexecute_form(GID, 1717000000, "sig")
    (row,) = json.loads(form["f.req"])[0]
    assert row[0] == "Fbv4je" and row[3] == "generic"
    request = json.loads(row[1])
    assert request[0] == "garturlreq" and request[2:] == [GID, 1717000000, "sig"]


@pytest.fixture
def google():
    server = FeedServer().start()
    server.add_handler(RSS_PAGE, lambda req: Response(200, HTML, PAGE))
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


def ask(google, link=LINK, **kwargs) -> google_news.Resolution:
    return google_news.resolve(link, session=make_session(LOOPBACK), settings=LOOPBACK, base=google.base_url, **kwargs)


def test_an_opaque_link_is_resolved_with_two_requests(google):
    found = ask(google)
    assert found.url == PUBLISHER and found.detail == "resolved through Google News" and not found.unavailable
    (page,) = google.requests_for(RSS_PAGE)
    assert page.path.endswith("?oc=5&hl=en-US&gl=US&ceid=US:en")  # the feed's edition is kept
    (posted,) = google.requests_for(google_news.BATCHEXECUTE_PATH)
    sent = json.loads(parse_qs(posted.body.decode())["f.req"][0])
    assert json.loads(sent[0][0][1])[2:] == [GID, 1717000000, "AZ5r3eRqSignature_-x"]
    assert posted.headers["user-agent"].startswith("newswatch/")


def test_a_rate_limit_means_google_is_unavailable_not_that_the_link_has_no_answer(google):
    google.add_handler(RSS_PAGE, lambda req: Response(429, {"Retry-After": "120"}, b""))
    found = ask(google)
    assert found.unavailable and found.retry_after == 120 and found.url is None and found.final is None
    assert google.requests_for(WEB_PAGE) == [] and google.requests_for(google_news.BATCHEXECUTE_PATH) == []


def test_a_consent_page_or_a_redirect_away_from_google_is_unavailable_too(google):
    google.add_handler(RSS_PAGE, lambda req: Response(200, HTML, b"<html>Before you continue</html>"))
    google.add_handler(WEB_PAGE, lambda req: Response(200, HTML, PAGE))
    assert ask(google).url == PUBLISHER  # the other page carried the signature
    google.add_handler(WEB_PAGE, lambda req: Response(200, HTML, b"<html>consent</html>"))
    found = ask(google)
    assert found.unavailable and found.final is None and "signature" in found.detail
    sorry = google.base_url.replace("127.0.0.1", "localhost") + "/sorry/index"
    google.add_handler(WEB_PAGE, lambda req: Response(302, {"Location": sorry}))
    found = ask(google)
    assert found.unavailable and "redirected" in found.detail
    google.add_handler(google_news.BATCHEXECUTE_PATH, lambda req: Response(500))
    google.add_handler(RSS_PAGE, lambda req: Response(200, HTML, PAGE))
    assert ask(google).unavailable


def test_final_answers_for_the_link(google):
    google.add_handler(RSS_PAGE, lambda req: Response(404))
    found = ask(google)
    assert found.final == "blocked" and "404" in found.detail and len(google.requests_for(WEB_PAGE)) == 1
    google.add_handler(RSS_PAGE, lambda req: Response(200, HTML, PAGE))
    google.add_handler(google_news.BATCHEXECUTE_PATH, lambda req: Response(200, HTML, b")]}'\n\n[]"))
    found = ask(google)
    assert found.final == "blocked" and "no URL" in found.detail
    found = ask(google, allowed=lambda url: google_news.BATCHEXECUTE_PATH not in url)
    assert found.final == "robots_disallowed" and google_news.BATCHEXECUTE_PATH in found.detail
    assert ask(google, link="https://news.google.com/topics/CAAq").final == "blocked"


def test_an_old_link_is_read_offline_without_asking_google():
    url = b"https://www.reuters.com/world/china-talks/"
    token = base64.urlsafe_b64encode(b"\x08\x13\x22" + bytes([len(url)]) + url + b"\xd2\x01\x00").rstrip(b"=")
    found = google_news.resolve(
        f"https://news.google.com/rss/articles/{token.decode()}?oc=5",
        session=make_session(LOOPBACK),
        settings=FetchSettings(),  # any request would go to the internet: none is made
    )
    assert found.url == "https://www.reuters.com/world/china-talks/" and found.detail == "read from the link"
