"""Step 4 of extraction (extract.py): the post-processing of trafilatura's lines -- body chunks
split by ad slots joined; the headline and standfirst, calls to action, "Related:" blocks and
link lists dropped -- and the word count. Pure: no network, no database."""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise

from lxml import etree
from lxml.html import HtmlElement

_TOKEN_RE = re.compile(r"\w+")


def norm_line(text: str) -> str:
    """Compare-form of a line: its lower-cased words."""
    return " ".join(_TOKEN_RE.findall(text.casefold()))


def line_words(line: str) -> int:
    return len(_TOKEN_RE.findall(line))


# Body chunks: a container counts when it brings at least _CHUNK_MIN_PARAGRAPHS paragraphs of
# _PARAGRAPH_MIN_WORDS words (one stray same-class box, a quoted claim or a byline, is not a
# chunk), and lies within _CHUNK_SCOPE_LEVELS levels of trafilatura's container (chunks sit in
# sibling wrappers; a same-class container further away is another article, e.g. a preloaded one).
_PARAGRAPH_MIN_WORDS = 10
_CHUNK_MIN_PARAGRAPHS = 3
_CHUNK_SCOPE_LEVELS = 3
_IN_FURNITURE = etree.XPath("boolean(ancestor::figure | ancestor::aside | ancestor::nav)")


def add_split_body(lines: list[str], tree: HtmlElement) -> list[str]:
    """Some templates cut the body into several containers of one tag and class with ad slots
    between them, and trafilatura keeps only the chunk it scored best. Find that chunk's container
    from the paragraphs extracted, and add the paragraphs of its same-class neighbours in page
    order."""
    known = {norm_line(line) for line in lines}
    parents: Counter = Counter()
    for p in tree.iter("p"):
        text = p.text_content()
        if len(text) >= 2 * _PARAGRAPH_MIN_WORDS:  # cheap pre-filter before the regex
            key = norm_line(text)
            if len(key.split()) >= _PARAGRAPH_MIN_WORDS and key in known:
                parents[p.getparent()] += 1
    if not parents:
        return lines
    container = parents.most_common(1)[0][0]
    css_class = container.get("class")
    if not css_class:
        return lines
    scope = container
    for _ in range(_CHUNK_SCOPE_LEVELS):
        scope = scope.getparent() if scope.getparent() is not None else scope
    before: list[str] = []
    after: list[str] = []
    found = before  # paragraphs of chunks before the container, then of those after it
    for chunk in scope.iter(container.tag):
        if chunk is container:
            found = after
        elif (
            chunk.get("class") == css_class
            and chunk not in container.iterancestors()
            and container not in chunk.iterancestors()
        ):
            for p in chunk.iter("p"):
                paragraph = " ".join(p.text_content().split())
                if norm_line(paragraph) and norm_line(paragraph) not in known and not _IN_FURNITURE(p):
                    found.append(paragraph)
    added = sum(1 for paragraph in before + after if line_words(paragraph) >= _PARAGRAPH_MIN_WORDS)
    return before + lines + after if added >= _CHUNK_MIN_PARAGRAPHS else lines


# The headline, when trafilatura keeps it, is among the first lines (a teaser box may come first).
_HEAD_LINES = 3
_SUBHEADINGS = etree.XPath("//h2 | //h3 | //h4 | //h5 | //h6 | //header//p")


def strip_headline_lines(lines: list[str], tree: HtmlElement, title: str | None, description: str | None) -> list[str]:
    """Drop the headline and the standfirst when trafilatura kept them: neither is body text, and
    the title is stored on its own. The headline is a line near the top equal to the page title or
    an <h1>. The standfirst is the line right after it when it equals the page's description *and*
    is a subheading or in the page's <header>: many pages use their first paragraph as the
    description, and that paragraph is body text."""
    headlines = {norm_line(title or "")} | {norm_line(h1.text_content()) for h1 in tree.iter("h1")}
    headlines.discard("")
    at = next((i for i, line in enumerate(lines[:_HEAD_LINES]) if norm_line(line) in headlines), None)
    if at is None:
        return lines
    drop = {at}
    following = norm_line(lines[at + 1]) if at + 1 < len(lines) else ""
    if (
        following
        and following == norm_line(description or "")
        and any(norm_line(element.text_content()) == following for element in _SUBHEADINGS(tree))
    ):
        drop.add(at + 1)
    return [line for i, line in enumerate(lines) if i not in drop]


# A line announcing links to other articles: the header alone ("Related", "DON'T MISS") or
# followed by one headline ("Read more: ...", "Also on example.com ...").
_RELATED_RE = re.compile(
    r"^[\[(]?\s*(?:related(?: (?:posts?|articles?|stories|story|coverage|content|reading|links?|news))?"
    r"|read (?:more|also|next)|also read|see (?:also|more)|more(?: (?:on this|stories|news|from [\w .'-]{1,30}))?"
    r"|also|also on [\w-]+\.[a-z]{2,}\b.*|you (?:may|might) (?:also )?(?:like|enjoy|be interested in)"
    r"|don'?t miss|recommended(?: for you| stories| reading)?|further reading|most (?:read|popular)"
    r"|trending(?: now)?|up next|what to read next|latest news|top stories|editor'?s picks?)"
    r"\b\s*(?:[:|>»…-]|\.\.\.|$)",
    re.I,
)
# After such a header, lines are dropped while they look like link titles: short, and a list
# item or not ending like a sentence.
_LINK_TITLE_MAX_WORDS = 25
_SENTENCE_END = (".", "!", "?", '"', "”", "’", "'", ":", ";")
# Calls to action and page furniture, as whole short lines (at most BOILERPLATE_MAX_WORDS): the
# same words inside a paragraph of the article are article text. Imperatives are anchored at the
# start of a sentence, so that reported speech ("he urged fans to follow him on Twitter") stays.
BOILERPLATE_MAX_WORDS = 40
_SENTENCE_START = r"(?:^|[.!?]\s+)"
_BOILERPLATE_RE = re.compile(
    "|".join(
        f"(?:{p})"
        for p in (
            # newsletters and subscriptions
            r"\b(?:sign up|subscribe|register)\b.{0,80}\b(?:newsletters?|inbox|email alerts?|briefing|digest)\b",
            r"\bnewsletters?\b.{0,80}\b(?:sign up|subscribe|inbox)\b",
            r"^[\w' ]{0,40}\bnewsletters?\W*$",  # a newsletter box's title
            rf"{_SENTENCE_START}(?:sign up|subscribe)(?: (?:now|today|here))?\W*$",
            r"\b(?:straight|right|directly|delivered) (?:to|in|into) your inbox\b",
            r"\bthanks? (?:you )?for (?:signing up|subscribing)\b|\berror processing your subscription\b",
            # social and sharing
            rf"{_SENTENCE_START}follow\b.{{0,60}}?\bon (?:twitter|facebook|instagram|linkedin|youtube|tiktok|x)\b",
            r"\b(?:like|enjoy(?:ed)?|liked) this (?:story|article|post)\?"
            r"|\bshare (?:this|it) with (?:a friend|your friends)\b",
            r"^share (?:this|on|via)\b",
            (
                r"^(?:share|tweet|email|print|pin|whatsapp|facebook|twitter)(?:\W+(?:share|tweet|email|print|pin"
                r"|whatsapp|facebook|twitter|linkedin|reddit))+\W*$"
            ),
            r"\b(?:click|tap) here\b",
            r"\bhave a (?:news )?tip\?|\bsend us (?:a|your) tips?\b",
            # comments
            r"^(?:\d+\s+)?comments?\W*$|\btell us what you think\b|\bjoin the (?:conversation|discussion)\b",
            rf"{_SENTENCE_START}(?:leave|post|add|write|view|read|show|see) (?:a |all |the |your )?comments?\b",
            r"\bwe(?:'d|’d| would) (?:like|love) to hear (?:from you|what you think)\b",
            # furniture
            r"\ball rights reserved\b|^(?:copyright|©|\(c\))\W.{0,60}\b(?:19|20)\d\d\b",
            r"\[(\w+)\b[^\]]*\].*\[/\1\]",  # an unrendered [shortcode]...[/shortcode]: a widget
            r"^\W*\d+\s*(?:min(?:ute)?s?)\.? read\W*$|\breading time\b|\btempo de leitura\b|\btiempo de lectura\b",
            r"^(?:updated|published|posted|last updated|first published)\b(?:\s*(?:at|on|:))?"
            r"[\s\w,.:/-]{0,40}\d[\s\w,.:/-]{0,40}$",
            r"^(?:filed under|tags?|tagged|categories|category|posted in|topics?)\s*:",
            r"^sources?\s*:\s*[\w\s,.&'-]{1,60}$",
            r"^advertisement\W*$|^(?:story|article) continues below\b|^continue reading\W*$",
            # wire credits
            (
                r"^(?:additional )?reporting by\b|^(?:writing|editing|edited|compiled) by\b"
                r"|\bcontributed (?:reporting|to this (?:report|story|article))\b"
            ),
        )
    ),
    re.I,
)


def _is_boilerplate(line: str) -> bool:
    if line_words(line) > BOILERPLATE_MAX_WORDS:
        return False
    # "(Reporting by ...)" and "[Related: ...]" are matched without their brackets too.
    forms = [line, line[1:-1].strip()] if line[:1] + line[-1:] in ("()", "[]") else [line]
    return any(_BOILERPLATE_RE.search(form) for form in forms)


def strip_boilerplate_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    in_related = False
    for line in lines:
        bare = line.lstrip("-•*· ")
        if _RELATED_RE.match(bare) and line_words(bare) <= _LINK_TITLE_MAX_WORDS:
            in_related = True
            continue
        if (
            in_related
            and line_words(bare) <= _LINK_TITLE_MAX_WORDS
            and (line.startswith("- ") or not bare.endswith(_SENTENCE_END))
        ):
            continue
        in_related = False
        if not _is_boilerplate(bare):
            out.append(line)
    return out


def _link_texts(tree: HtmlElement) -> set[str]:
    """Compare-forms of the page's links, and of its list items that are nothing but links."""
    texts = {norm_line(a.text_content()) for a in tree.iter("a")}
    for li in tree.iter("li"):
        key = norm_line(li.text_content())
        if key and key not in texts:
            link_text = " ".join(norm_line(a.text_content()) for a in li.iter("a"))
            if len(link_text) >= 0.9 * len(key):
                texts.add(key)
    texts.discard("")
    return texts


def drop_link_lists(lines: list[str], tree: HtmlElement) -> list[str]:
    """Drop runs of two or more lines that are each nothing but a link: a list of links to other
    pages ("15 Amazing Images of Stars", a menu) is related reading or navigation, not article
    text. A single linked line among paragraphs stays (a linked subheading, a source)."""
    short = [line_words(line) <= _LINK_TITLE_MAX_WORDS for line in lines]
    if not any(a and b for a, b in pairwise(short)):
        return lines  # no run of short lines, no list: spare the page's links the look-up
    links = _link_texts(tree)
    flags = [is_short and norm_line(line) in links for is_short, line in zip(short, lines, strict=True)]
    return [
        line
        for i, line in enumerate(lines)
        if not (flags[i] and ((i > 0 and flags[i - 1]) or (i + 1 < len(lines) and flags[i + 1])))
    ]


CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def word_count(text: str | None) -> int:
    """Words of text, where each Han ideograph or kana counts as a word (Chinese and Japanese are
    written without spaces between words). Korean separates its words with spaces, so Hangul is
    counted by words like Latin script."""
    if not text:
        return 0
    return len(CJK_RE.findall(text)) + len(_TOKEN_RE.findall(CJK_RE.sub(" ", text)))
