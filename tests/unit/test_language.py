"""newswatch.language: headline language (script checks, then py3langid's public API) and
language-tag normalisation."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from newswatch import language
from newswatch.language import detect_language, normalize_language

# Real headlines, copied from the feeds named.
ENGLISH = [
    # demo/feeds/google_news_china_us.xml
    "Blinken set to meet Chinese leaders as superpowers manage rivalry - AP News",
    "US and China agree to resume military maritime talks - Reuters",
    "China's commerce ministry vows response to new US chip export curbs - South China Morning Post",
    # demo/feeds/bbc_world_asia.xml
    "Chinese students in the US caught in visa limbo as vetting tightens",
    "China hits back at US chip curbs with rare earth export checks",
    # demo/feeds/nyt_world.xml
    "U.S. and China Agree to Resume Military Talks at Sea",
    # demo/feeds/japantoday_politics.atom
    "FBI says Chinese state hackers breached U.S. telecom networks",
    "Japan, China foreign ministers agree to keep dialogue going despite seafood row",
    # tests/fixtures/realfeeds/bbc_news_world.xml, japantoday_world.xml, aljazeera_all.xml
    "First day of Russia-Ukraine peace talks ends in Geneva",
    "Iran foreign minister says progress made in nuclear talks with U.S.",
    "France arrests nine over killing of far-right activist Quentin Deranque",
]

CHINESE = [
    # demo/feeds/xinhuanet_world_zh.xml
    "中美两军将恢复海上军事安全磋商",
    "外交部：中方在芬太尼问题上已采取有力措施",
    "外交部发言人就美方对华芯片出口管制答记者问",
    "王毅同美国国务卿布林肯举行会谈",
    "1—10月份全国规模以上工业企业利润同比下降1.9%",
    # traditional characters (a Taiwanese or Hong Kong headline)
    "美國宣布對台軍售 北京強烈抗議",
]

JAPANESE = [
    "日米首脳会談、ワシントンで開催へ",
    "中国外相が来日　日中関係の改善を協議",
    "米中貿易協議、ジュネーブで再開",  # kana (で) among kanji
]

KOREAN = [
    "한미 정상회담 워싱턴서 개최",
    "미중 무역협상 제네바서 재개",
    '中 외교부 "美 관세 조치에 단호히 대응"',  # hangul among Han characters
]

OTHER = [
    # tests/fixtures/realfeeds/rssparser_uolNoticias.rss
    ("Rival de Putin é condenado a mais 20 dias de prisão", "pt"),
    # tests/fixtures/realfeeds/rss_2.0_spiegel.xml
    ("07.02. – die Wochenvorschau: Lockdown-Verlängerung, Kriegsverbrecher vor Gericht, Super Bowl, Karneval", "de"),
]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_headlines(text):
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", CHINESE)
def test_chinese_headlines(text):
    assert detect_language(text) == "zh"


@pytest.mark.parametrize("text", JAPANESE)
def test_japanese_headlines(text):
    assert detect_language(text) == "ja"


@pytest.mark.parametrize("text", KOREAN)
def test_korean_headlines(text):
    assert detect_language(text) == "ko"


@pytest.mark.parametrize("text, expected", OTHER)
def test_other_languages(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "短",
        "中美会谈",
        "Talks",
        "12345678",
        "2024 03 04 1234",
        "$1.2 billion",
        "---------",
        12345678,
        b"US and China agree to talks",
    ],
)
def test_empty_short_numeric_and_non_text_give_none(text):
    assert detect_language(text) is None


def test_below_the_probability_threshold_gives_none():
    # demo/feeds/nyt_world.xml: py3langid is unsure (p ~ 0.36) on this one, so no guess.
    assert detect_language("Chinese E-Commerce Giant Alibaba Reports Surge in Cloud Revenue") is None


def test_english_headline_with_a_chinese_name_is_not_chinese():
    # One to three Han characters in Latin text are a name, not Chinese. (normalize.py today
    # answers 'zh' for the first: py3langid weighs the ideographs heavily.)
    assert detect_language("Xi Jinping 习近平 meets Biden") != "zh"
    assert detect_language("Biden meets 习近平 in San Francisco") != "zh"
    assert detect_language("China's commerce ministry vows response to 新 US chip export curbs") == "en"
    assert detect_language("Xi 习近平会见拜登 in SF") == "zh"  # four or more ideographs: Chinese


def test_identifier_is_loaded_once_through_the_public_api(monkeypatch):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    calls = []
    real = LanguageIdentifier.from_model_file.__func__

    def counting(cls, *args, **kwargs):
        calls.append((args, kwargs))
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(language, "_identifier", None)
    monkeypatch.setattr(LanguageIdentifier, "from_model_file", classmethod(counting))
    threads = [threading.Thread(target=detect_language, args=("US and China agree to resume talks",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [((MODEL_FILE,), {"norm_probs": True})]
    assert set(language._identifier.labels) == set(language.LANGUAGES)


def test_only_public_py3langid_names_are_used():
    source = Path(language.__file__).read_text(encoding="utf-8")
    assert "_load_identifier" not in source
    assert "from py3langid.langid import MODEL_FILE, LanguageIdentifier" in source


@pytest.mark.parametrize(
    "code, expected",
    [
        ("en-US", "en"),
        ("en_us", "en"),
        ("EN", "en"),
        ("zh-Hans", "zh"),
        ("zh_cn", "zh"),
        ("zh-TW", "zh"),
        ("ja-JP", "ja"),
        ("ko", "ko"),
        (" fil-PH ", "fil"),
        ("it-it", "it"),
        (None, None),
        ("", None),
        ("x", None),
        ("english", None),
        ("12", None),
        ("*", None),
        (5, None),
    ],
)
def test_normalize_language(code, expected):
    assert normalize_language(code) == expected
