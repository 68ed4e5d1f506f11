"""Steps 1 and 2 of extraction (extract.py): is the body an HTML page at all, and its bytes of any
charset decoded to str. Pure: no network, no database."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

# 1. Is it an HTML page at all?

_NOT_HTML_MAGIC = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"RIFF", "RIFF media"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xd0\xcf\x11\xe0", "MS Office document"),
    (b"OggS", "Ogg media"),
    (b"\x00\x00", "binary data"),  # ISO media (MP4/MOV) and most other binary formats
)
_FEED_RE = re.compile(rb"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:rdf)\b", re.I | re.S)
_HTML_MIME = {"text/html", "application/xhtml+xml"}
# Declared types that are never an article page, whatever the body looks like.
_NON_HTML_MIME_RE = re.compile(
    r"^(?:image|audio|video|font|model)/|^application/(?:pdf|json|[\w.-]+\+json|zip|gzip|msword"
    r"|vnd\.|x-|javascript|ecmascript|rss\+xml|atom\+xml|rdf\+xml)|^text/(?:css|csv|javascript|calendar|xml)"
)
_HTML_START_RE = re.compile(rb"^(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)
_HTML_TAG_RE = re.compile(rb"<(?:html|head|body|div|p|article|title)[\s>]", re.I)


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _ascii_head(body: bytes, size: int = 4096) -> bytes:
    """The start of the body as ASCII-compatible bytes, so that UTF-16 pages are sniffed too."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[2 : size * 2].decode(codec, "replace").encode("ascii", "replace").lstrip()
    return body[:size].removeprefix(codecs.BOM_UTF8).lstrip()


def _sniff_not_html(body: bytes) -> str | None:
    """What the body is when its first bytes say it is not an HTML page, else None."""
    head = _ascii_head(body)
    for magic, kind in _NOT_HTML_MAGIC:
        if head.startswith(magic):
            return kind
    if head[:1] in (b"{", b"["):
        return "JSON"
    if _FEED_RE.match(head):
        return "RSS/Atom feed"
    return None


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """True when the body is an HTML page. A body whose first bytes say otherwise (PDF, image,
    JSON, feed) is never HTML, whatever the header says; otherwise an HTML type decides, a
    non-HTML type refuses, and a missing or vague one (text/plain, octet-stream: servers send
    them for HTML too) leaves it to the markup."""
    if not body or not body.strip() or _sniff_not_html(body):
        return False
    mime = _mime(content_type)
    if mime in _HTML_MIME:
        return True
    if _NON_HTML_MIME_RE.search(mime):
        return False
    head = _ascii_head(body)
    return b"\x00" not in head and bool(_HTML_START_RE.match(head) or _HTML_TAG_RE.search(head))


def not_html_reason(body: bytes, content_type: str | None) -> str:
    kind, mime = _sniff_not_html(body), _mime(content_type)
    if kind:
        return f"{kind} body" + (f" (declared {mime})" if mime else "")
    return f"declared {mime}" if mime else "no HTML markup"


# ---------------------------------------------------------------------------------------------
# 2. Bytes -> str

# Legacy labels -> the codec browsers really decode them with (WHATWG Encoding Standard): pages
# labelled GB2312 use GBK/GB18030 characters, Big5 pages use HKSCS extensions, Shift_JIS pages use
# Microsoft's cp932 extensions, EUC-KR pages use cp949, and "ISO-8859-1"/"ASCII" mean windows-1252.
# fmt: off
_CHARSET_ALIASES = {
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "gb_2312-80", "gb_2312", "cp936", "ms936", "euc-cn",
                     "csgb2312", "iso-ir-58", "chinese", "windows-936", "gb18030"), "gb18030"),
    **dict.fromkeys(("big5", "big5-hkscs", "big5hkscs", "x-x-big5", "cn-big5", "csbig5", "cp950"),
                    "big5hkscs"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis",
                     "windows-31j", "ms932", "cp932"), "cp932"),
    **dict.fromkeys(("euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ks_c_5601", "korean",
                     "csksc56011987", "windows-949", "cp949", "uhc"), "cp949"),
    **dict.fromkeys(("iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii",
                     "cp819", "ibm819", "windows-1252", "cp1252"), "cp1252"),
    **dict.fromkeys(("iso-8859-9", "latin5", "windows-1254"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "windows-874"), "cp874"),
}
# fmt: on
# A header saying ISO-8859-1 is many servers' default, often on UTF-8 pages.
_WEAK_CODECS = {"cp1252"}
_HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET_RE = re.compile(
    rb"<meta\s[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)"  # <meta charset> and http-equiv content=
    rb"|<\?xml\s[^>]*?encoding\s*=\s*[\"']([\w.:-]+)",
    re.I,
)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec(label: str | bytes | None) -> str | None:
    """A Python codec name for a charset label, or None when the label is unknown."""
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    if not label:
        return None
    label = label.strip().lower()
    try:
        codec = codecs.lookup(_CHARSET_ALIASES.get(label, label)).name
    except LookupError:
        return None
    # Bytes that could be read as ASCII to find the label cannot be UTF-16: browsers then use
    # UTF-8, and so do we.
    return "utf-8" if codec.startswith("utf-16") else _CHARSET_ALIASES.get(codec, codec)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode an HTML page of any charset; never raises.

    Order: the HTTP header charset, then <meta charset>/<meta http-equiv>/<?xml encoding?> in the
    first 8 KB, then valid UTF-8, then charset detection. Two exceptions, as browsers do: a
    byte-order mark comes first (the bytes themselves say what they are, and a header that
    disagrees is the one that is wrong), and a header saying ISO-8859-1/ASCII loses to a body that
    is valid non-ASCII UTF-8. A declared charset the bytes do not decode under is skipped; the
    last resort replaces undecodable bytes.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, "replace")
    header = _HEADER_CHARSET_RE.search(content_type or "")
    meta = _META_CHARSET_RE.search(body[:8192])
    declared = [
        codec
        for codec in (_codec(header and header.group(1)), _codec(meta and (meta.group(1) or meta.group(2))))
        if codec
    ]
    if declared and declared[0] in _WEAK_CODECS and not body.isascii() and _is_utf8(body):
        declared.insert(0, "utf-8")
    for codec in declared:
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            continue
    if _is_utf8(body):
        return body.decode("utf-8")
    best = from_bytes(body[:200_000]).best()
    detected = _codec(best.encoding if best else None)
    return body.decode(detected or (declared[0] if declared else "utf-8"), "replace")
