"""Feed date strings -> aware UTC datetimes, with per-feed time zones for Asian outlets.

    parse_date("Mon, 04 Mar 2024 08:00:00 CST", "Asia/Shanghai")  -> 2024-03-04 00:00 UTC
    parse_date("Mon, 04 Mar 2024 08:00:00 CST")                   -> 2024-03-04 14:00 UTC (US Central)
    parse_date("2024年03月04日 08:00", "Asia/Shanghai")            -> 2024-03-04 00:00 UTC
    parse_date("2024-03-04 08:00:00")                             -> 2024-03-04 08:00 UTC
    parse_date("03月04日 08:00")                                   -> None (no year: never taken from today)

Rules
  * A numeric offset (+0800, +08:00, -0500, GMT+8, UTC+08:00, Z) always wins.
  * A zone abbreviation is read from ABBREVIATIONS. The abbreviations Asian sites stamp on their
    local time (FEED_LOCAL: CST, CCT, HKT, JST, KST, SGT, 北京时间 ...) mean the feed's own zone when
    the feed has one (config `timezone:`); without one they keep their table meaning, so CST is US
    Central as RFC 822 says.
  * No zone at all: the feed's zone, else UTC. A date without a time is 00:00 in that zone.
  * A string that does not name a complete date (year, month and day) gives None; nothing is ever
    filled in from the current date, and nothing here reads the clock. An unreadable zone word,
    an out-of-range field or an ambiguous all-numeric day/month order also gives None: the caller
    then falls back to the first-seen time, which is better than a date hours or months off.

Speed: the forms feeds actually use (RFC 822/1123, ISO 8601 / RFC 3339 / W3C-DTF, the numeric and
年月日 forms of Chinese, Japanese and Korean sites) are matched by compiled regexes. dateutil's
public parser is only the fallback for anything else, and there it is run with two different
`default`s (and with day-first/year-first variations): any disagreement means a missing or
ambiguous component, and the answer is None.

Only public APIs are used: datetime, zoneinfo, unicodedata, re and dateutil.parser
(`parser`, `parserinfo` - documented as the class to subclass to customise parsing).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.parser import parser as _DateutilParser
from dateutil.parser import parserinfo as _DateutilParserInfo

__all__ = ["ABBREVIATIONS", "FEED_LOCAL", "parse_date", "zone"]


MAX_LENGTH = 160  # longer "dates" are prose or markup, not dates


# --- zones -----------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ZoneInfoNotFoundError: no such key; ValueError: malformed key ('../x', absolute path);
        # OSError: a directory of the database such as 'Asia'.
        raise ValueError(
            f"unknown time zone {name!r}: expected an IANA zone name such as "
            f"'Asia/Shanghai', 'Asia/Tokyo', 'America/New_York' or 'UTC'"
        ) from None


def zone(name: object) -> tzinfo:
    """The IANA zone `name` (e.g. 'Asia/Shanghai'), cached; ValueError for an unknown name or for
    anything that is not a name (it checks values read from configuration files)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"time zone must be a non-empty IANA zone name, not {name!r}")
    return _zone(name.strip())


# Zone abbreviations and words -> UTC offset in minutes, or an IANA name where the word means
# "local time there" (daylight saving included). Keys are upper case (CJK words as written).
# fmt: off
ABBREVIATIONS: dict[str, int | str] = {
    # Universal time.
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "UCT": 0,
    # North America (RFC 822 names and the other US/Canadian ones). The label itself says
    # standard or daylight time, so these are fixed offsets. AST is Atlantic (as in RFC 822
    # practice and feedparser), not Arabia.
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480, "HST": -600, "HDT": -540,
    "AST": -240, "ADT": -180, "NST": -210, "NDT": -150,
    # North American generic names (no standard/daylight): local time there.
    "ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    # East and South-East Asia (no daylight saving). CCT = China Coast Time.
    "CCT": 480, "PRC": 480, "HKT": 480, "SGT": 480, "MYT": 480, "PHT": 480, "PHST": 480, "WITA": 480,
    "JST": 540, "KST": 540, "ICT": 420, "WIB": 420, "WIT": 540,
    # South Asia. IST is India here (not Irish or Israel Standard Time).
    "IST": 330, "PKT": 300, "NPT": 345,
    # Australia and New Zealand.
    "AEST": 600, "AEDT": 660, "ACST": 570, "ACDT": 630, "AWST": 480, "NZST": 720, "NZDT": 780,
    # Europe. BST is British Summer Time.
    "WET": 0, "WEST": 60, "BST": 60, "CET": 60, "CEST": 120, "MET": 60, "MEST": 120,
    "EET": 120, "EEST": 180, "MSK": 180,
    # Africa and South America.
    "WAT": 60, "CAT": 120, "SAST": 120, "EAT": 180, "BRT": -180, "ART": -180,
    # Chinese, Japanese and Korean words for local time (simplified and traditional forms).
    "北京时间": 480, "北京時間": 480, "台北时间": 480, "台北時間": 480, "台湾时间": 480,
    "臺灣時間": 480, "台灣時間": 480, "香港时间": 480, "香港時間": 480, "新加坡时间": 480,
    "日本時間": 540, "東京時間": 540, "日本时间": 540, "东京时间": 540, "한국시간": 540,
}
# fmt: on

# The abbreviations Asian outlets put on their local time. With a feed time zone configured they
# mean that zone (a Chinese site's "CST" is China Standard Time); without one they keep their
# ABBREVIATIONS meaning (CST = US Central). For all but CST the two agree whenever the configured
# zone is the one the label names. Words such as 北京时间 are not in this set: they name their zone
# outright, so they keep their meaning whatever zone the feed is configured with.
FEED_LOCAL: frozenset[str] = frozenset({"CST", "CCT", "HKT", "JST", "KST", "SGT"})

_FIXED: dict[str, tzinfo] = {}
for _name, _value in ABBREVIATIONS.items():
    if isinstance(_value, int):
        _FIXED[_name] = UTC if _value == 0 else timezone(timedelta(minutes=_value))
del _name, _value


def _named_zone(name: str, feed: tzinfo | None) -> tzinfo | None:
    key = name.upper() if name.isascii() else re.sub(r"\s+", "", name)
    if feed is not None and key in FEED_LOCAL:
        return feed
    fixed = _FIXED.get(key)
    if fixed is not None:
        return fixed
    value = ABBREVIATIONS.get(key)
    if isinstance(value, str):
        return _zone(value)
    if "/" in name:  # an IANA name written after the time: "... 08:00 Asia/Shanghai"
        try:
            return zone(name)
        except ValueError:
            return None
    return None


def _offset(sign: str, hours: str, minutes: str | None) -> tzinfo | None:
    h, m = int(hours), int(minutes or 0)
    if h > 14 or m > 59:
        return None
    if h == 0 and m == 0:
        return UTC
    delta = timedelta(hours=h, minutes=m)
    return timezone(-delta if sign == "-" else delta)


# "+0800", "+08:00", "+08", "+8", "GMT+8", "UTC+08:00", "-0500 EST", "PRC+0800", "+0800 (CST)"
# (comments are removed first). A word other than GMT/UTC/UT may only prefix a four-digit offset:
# "CST-8" is a POSIX TZ string, whose sign means the opposite, so it is not guessed at.
_OFFSET_RE = re.compile(
    r"(?:(?:GMT|UTC|UT)\s*|[A-Za-z]{2,5}(?=[+-]\d{2}:?\d{2}))?"
    r"(?P<sign>[+-])\s?(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?(?:\s*[A-Za-z]{1,5})?",
    re.IGNORECASE,
)
_COMMENT_RE = re.compile(r"[(\[]([^()\[\]]*)[)\]]")


@lru_cache(maxsize=2048)
def _zone_of(rest: str, feed: tzinfo | None) -> tzinfo | None:
    """The zone named by the (stripped) text after the time; the default zone when there is
    none; None when the text is not a zone we can read. Cached: feeds use a handful of these."""
    if not rest:
        return feed or UTC
    if "(" in rest or "[" in rest:
        comments = _COMMENT_RE.findall(rest)
        core = _COMMENT_RE.sub(" ", rest).strip(" ,;")
        if not core:  # the zone itself is in brackets: "(北京时间)", "(UTC+8)"
            if len(comments) != 1:
                return None
            core = comments[0].strip()
            if not core or "(" in core or "[" in core:
                return None
            return _zone_of(core.strip(" ,;"), feed)
        rest = core
    match = _OFFSET_RE.fullmatch(rest)
    if match:
        return _offset(match["sign"], match["h"], match["m"])
    return _named_zone(rest, feed)


# --- field tables ----------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        # English (full, abbreviated), then the abbreviations and names of localised RFC 822 dates:
        # German, French, Spanish, Portuguese, Italian. No name maps to two different months.
        "january jan janeiro januar janvier janv enero ene gennaio gen",
        "february feb februar février fevrier févr fevr fév fev febrero fevereiro febbraio",
        "march mar märz mär marz mrz mars marzo março marco",
        "april apr avril avr abril abr aprile",
        "may mai mayo maio maggio mag",
        "june jun juni juin junio junho giugno giu",
        "july jul juli juillet juil julio julho luglio lug",
        "august aug août aout agosto ago",
        "september sep sept septembre septiembre setiembre setembro settembre set",
        "october oct oktober okt octobre octubre outubro out ottobre ott",
        "november nov novembre noviembre novembro",
        "december dec dezember dez décembre déc diciembre dic dezembro dicembre",
    ),
    start=1,
):
    for _word in _names.split():
        _MONTHS[_word] = _number
del _number, _names, _word

_AM = {"am", "上午", "午前", "오전"}
_PM = {"pm", "下午", "午後", "오후"}

# --- the fast regexes ------------------------------------------------------------------------

# Clock time as written after an English or ISO date: 8:00, 08:00:00, 08:00:00.123, 2:02:33 PM.
_TIME = (
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d+))?)?"
    r"(?:\s*(?P<ap>[AaPp]\.?[Mm]\.?)(?![A-Za-z]))?"
)

# Clock time after a numeric or 年月日 date: also 8時00分, 8时30分15秒, 下午3:00, 午前8時, 오후 3:00.
_CJK_TIME = (
    r"(?P<ap1>上午|下午|午前|午後|오전|오후|[AaPp][Mm])?\s*"
    r"(?P<H>\d{1,2})\s*(?:"
    r":(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d+))?)?"
    r"|[時时点點시]\s*(?:(?P<M2>\d{1,2})\s*[分분])?\s*(?:(?P<S2>\d{1,2})\s*[秒초])?"
    r")(?:\s*(?P<ap>[AaPp]\.?[Mm]\.?)(?![A-Za-z]))?"
)

_WEEKDAY = r"(?:[^\W\d_]{2,}\.?(?:\s*,\s*|\s+))?"  # any language; not checked against the date

# RFC 822/1123 and its sloppy relatives: "Mon, 04 Mar 2024 08:00:00 +0800", "4 Mar 24 8:00 GMT",
# "Tue, 4 March 2024", "mer, 16 nov 2022 00:38:15 +0100", "04-Mar-2024 08:00".
_DAY_FIRST_RE = re.compile(
    _WEEKDAY + r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\.?\s*[-\s]\s*(?P<mon>[^\W\d_]{3,9})\.?\s*[-\s,]\s*"
    r"(?P<y>\d{4}|\d{2})(?![\d:])"
    r"(?:(?:\s*,\s*|\s+at\s+|\s+|T)" + _TIME + r")?"
    r"(?P<zone>.*)",
    re.IGNORECASE | re.DOTALL,
)

# Month first: "Sat, Dec 16 2023 02:02:33 PM", "March 4, 2024 8:00 AM EST",
# "Mon Mar 04 2024 08:00:00 GMT+0800 (China Standard Time)" (JavaScript's Date.toString()).
_MONTH_FIRST_RE = re.compile(
    _WEEKDAY + r"(?P<mon>[^\W\d_]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(?P<y>\d{4})(?![\d:])"
    r"(?:(?:\s*,\s*|\s+at\s+|\s+|T)" + _TIME + r")?"
    r"(?P<zone>.*)",
    re.IGNORECASE | re.DOTALL,
)

# ISO 8601 / RFC 3339 / W3C-DTF and the numeric forms of Asian sites: 2024-03-04T08:00:00+08:00,
# 2024-03-04 08:00:00, 2024-3-4 8:00, 2024/03/04 08:00, 2024.03.04, 2024. 3. 4. 오전 8:00,
# 2024年03月04日 08:00, 2024年3月4日 8時00分, 2024년 3월 4일 오후 3:00.
_NUMERIC_RE = re.compile(
    r"(?P<y>\d{4})\s*(?:[-/.]|年|년)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月|월)\s*(?P<d>\d{1,2})(?!\d)"
    r"\s*(?:日|일|\.(?!\d))?"
    r"(?:(?:\s*T\s*|\s*,\s*|\s*)" + _CJK_TIME + r")?"
    r"(?P<zone>.*)",
    re.DOTALL,
)

# ISO 8601 basic format: 20240304T080000Z, 20240304T0800+0800.
_BASIC_RE = re.compile(
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})T(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?(?:[.,](?P<F>\d+))?"
    r"(?P<zone>.*)",
    re.DOTALL,
)

# Removed from non-ASCII strings before matching: weekdays written in Chinese, Japanese or
# Korean, bare or in brackets: (月) （一） 星期一 周一 週一 月曜日 (월) 월요일.
_CJK_WEEKDAY_RE = re.compile(
    r"[(\[]\s*(?:[月火水木金土日一二三四五六天월화수목금토일]|星期.|[周週].|[月火水木金土日]曜日?|[월화수목금토일]요일)\s*[)\]]"
    r"|星期[一二三四五六日天]|[周週][一二三四五六日天]|[月火水木金土日]曜日|[월화수목금토일]요일"
)
# Japanese era and Republic of China years -> Gregorian: 令和6年 -> 2024年, 民國113年 -> 2024年.
_ERA_RE = re.compile(r"(令和|平成|昭和|民國|民国)\s*(\d{1,3}|元)\s*年")
_ERA_BASE = {"令和": 2018, "平成": 1988, "昭和": 1925, "民國": 1911, "民国": 1911}
# A leading label such as "发布时间：" or "更新時間:" before the date (non-ASCII strings only).
_LABEL_RE = re.compile(r"^[^\W\d_][^\d:：]{0,15}[:：]\s*(?=\d)")


def _era(match: re.Match) -> str:
    number = 1 if match.group(2) == "元" else int(match.group(2))
    return f"{_ERA_BASE[match.group(1)] + number}年"


def _prepare(text) -> str | None:
    if not isinstance(text, str):
        return None
    s = text.strip()
    if not s or len(s) > MAX_LENGTH:
        return None
    if not s.isascii():
        # Full-width digits and punctuation (２０２４年３月４日（月）８：００), no-break spaces,
        # the Unicode minus sign.
        s = unicodedata.normalize("NFKC", s).replace("\u2212", "-")
        if "年" in s:
            s = _ERA_RE.sub(_era, s)
        s = _CJK_WEEKDAY_RE.sub(" ", s).strip()
        if _LABEL_RE.match(s):
            s = _LABEL_RE.sub("", s, count=1)
    return s or None


def _build(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    micro: int,
    zone_text: str,
    feed: tzinfo | None,
) -> datetime | None:
    tz = _zone_of(zone_text.strip(" ,;"), feed)
    if tz is None:
        return None
    next_day = False
    if hour == 24 and minute == 0 and second == 0 and micro == 0:  # ISO 8601 end of day
        hour, next_day = 0, True
    if second == 60:  # leap second
        second = 59
    try:
        local = datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        if next_day:
            local += timedelta(days=1)
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _hour(hour: int, ampm: str) -> int | None:
    marker = ampm.lower().replace(".", "").replace(" ", "")
    if marker in _AM:
        if hour > 12:
            return None
        return 0 if hour == 12 else hour
    if marker not in _PM:
        return None
    # PM: 1-11 -> 13-23; 12 stays noon; 0 is noon too (Japanese 午後0時); 13-23 tolerated as is.
    if hour == 0:
        return 12
    return hour + 12 if hour < 12 else hour


def _assemble(
    year: int,
    month: int,
    day: str,
    hour: str | None,
    minute: str | None,
    second: str | None,
    fraction: str | None,
    ampm: str | None,
    zone_text: str,
    feed: tzinfo | None,
) -> datetime | None:
    if hour is None:
        return _build(year, month, int(day), 0, 0, 0, 0, zone_text, feed)
    h: int | None = int(hour)
    if ampm:
        h = _hour(int(hour), ampm)
    if h is None:
        return None
    return _build(
        year,
        month,
        int(day),
        h,
        int(minute) if minute else 0,
        int(second) if second else 0,
        int(fraction[:6].ljust(6, "0")) if fraction else 0,
        zone_text,
        feed,
    )


def _iso(s: str, feed: tzinfo | None):
    """ISO 8601 extended format through the C parser; _NO_MATCH when it is not that."""
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:  # also leap seconds, 24:00, lower-case z, ...: the regexes decide those
        return _NO_MATCH
    offset = dt.utcoffset()
    if offset is None:
        dt = dt.replace(tzinfo=feed or UTC)
    elif abs(offset) > _MAX_OFFSET:
        return None
    try:
        return dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


_NO_MATCH = object()
_MAX_OFFSET = timedelta(hours=14)


def _fast(s: str, feed: tzinfo | None):
    """A datetime, or None, when one of the fast forms matched; _NO_MATCH otherwise."""
    if s[0].isdigit():
        if len(s) >= 10 and s[4] == "-" and s[7] == "-":
            result = _iso(s, feed)
            if result is not _NO_MATCH:
                return result
        m = _NUMERIC_RE.match(s)
        if m:
            y, mo, d, ap1, hh, mm, ss, ff, mm2, ss2, ap, z = m.groups()
            if ap1 and ap:
                return None
            return _assemble(int(y), int(mo), d, hh, mm or mm2, ss or ss2, ff, ap or ap1, z, feed)
        m = _BASIC_RE.match(s)
        if m:
            y, mo, d, hh, mm, ss, ff, z = m.groups()
            return _assemble(int(y), int(mo), d, hh, mm, ss, ff, None, z, feed)
        m = _DAY_FIRST_RE.match(s)
        if m:
            d, mon, y, hh, mm, ss, ff, ap, z = m.groups()
    else:
        m = _DAY_FIRST_RE.match(s)
        if m:
            d, mon, y, hh, mm, ss, ff, ap, z = m.groups()
        else:
            m = _MONTH_FIRST_RE.match(s)
            if m:
                mon, d, y, hh, mm, ss, ff, ap, z = m.groups()
    if not m:
        return _NO_MATCH
    month = _MONTHS.get(mon.lower())
    if month is None:
        return _NO_MATCH
    year = int(y)
    if len(y) == 2:  # RFC 5322 section 4.3: 00-49 -> 20xx, 50-99 -> 19xx
        year += 2000 if year < 50 else 1900
    return _assemble(year, month, d, hh, mm, ss, ff, ap, z, feed)


# --- the dateutil fallback -------------------------------------------------------------------


class _ParserInfo(_DateutilParserInfo):
    """dateutil's word tables with a fixed two-digit-year rule: dateutil's own rule puts the
    year within 50 years of the current year, i.e. reads the clock."""

    def convertyear(self, year, century_specified=False):
        if year < 100 and not century_specified:
            year += 2000 if year < 50 else 1900
        return year


_DATEUTIL = _DateutilParser(_ParserInfo())
# Two defaults that differ in every date field, both leap years and both months of 31 days, so
# that neither makes a valid date fail: a field missing from the string shows as a difference.
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2004, 12, 28)
_GMT_OFFSET_RE = re.compile(r"\b(?:GMT|UTC|UT)\s*(?=[+-]\d)", re.IGNORECASE)


class _Unreadable(Exception):
    pass


def _fallback(s: str, feed: tzinfo | None) -> datetime | None:
    # dateutil reads "GMT+8" as the POSIX "8 hours west"; feeds mean 8 hours east. Keep the offset.
    s = _GMT_OFFSET_RE.sub("", s)

    def tzinfos(name, offset):
        if offset is not None:
            return UTC if offset == 0 else timezone(timedelta(seconds=offset))
        if name is None:
            return feed or UTC
        tz = _named_zone(name, feed)
        if tz is None:
            raise _Unreadable(name)
        return tz

    results = []
    try:
        for default, dayfirst, yearfirst in (
            (_DEFAULT_A, False, False),
            (_DEFAULT_B, False, False),
            (_DEFAULT_A, True, False),
            (_DEFAULT_A, False, True),
        ):
            dt = _DATEUTIL.parse(s, default=default, dayfirst=dayfirst, yearfirst=yearfirst, tzinfos=tzinfos)
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=feed or UTC)
            results.append(dt)
    except Exception:  # noqa: BLE001 - dateutil raises ParserError, OverflowError, TypeError...: all mean "no"
        return None
    first = results[0]
    if any(
        (r.year, r.month, r.day, r.hour, r.minute, r.second, r.microsecond)
        != (first.year, first.month, first.day, first.hour, first.minute, first.second, first.microsecond)
        for r in results[1:]
    ):
        return None
    try:
        return first.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# --- the API ---------------------------------------------------------------------------------


def parse_date(text: str | None, tz: str | tzinfo | None = None) -> datetime | None:
    """Aware UTC datetime, or None when `text` is not a complete date (never filled from today).

    `tz` is the feed's IANA zone (config `timezone:`), used for zone-less dates and for the
    Asian abbreviations in FEED_LOCAL. An unknown `tz` name raises ValueError (it is a
    configuration error; config loading should have checked it with `zone()`); anything wrong
    with `text` gives None.
    """
    feed = None
    if tz is not None:
        feed = tz if isinstance(tz, tzinfo) else zone(tz)
    try:
        s = _prepare(text)
        if s is None:
            return None
        result = _fast(s, feed)
        if result is not _NO_MATCH:
            return result
        return _fallback(s, feed)
    except Exception:  # noqa: BLE001 - defensive: a date string must never break a feed
        return None
