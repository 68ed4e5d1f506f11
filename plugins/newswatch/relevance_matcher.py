"""Term matching for relevance (relevance.py): the tokenizer, and the matcher that finds the
configured terms in a token stream -- the longest term at each position, with the side a
descriptor ("CCP-tied") or "former" turns into a country. Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_ACRONYM_RE = re.compile(r"^[A-Z][A-Z0-9.&-]*$")
_SHORT_NAME_RE = re.compile(r"^[A-Z][a-z]{1,2}$")
DASHES = str.maketrans(
    {"\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-", "\u2019": "'", "\u2018": "'"}
)


_TOKEN_RE = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+|\S")


def tokenize(text: str) -> list[str]:
    """Words (Latin letters and digits) and every other visible character as its own token,
    so punctuation must match exactly ("U.S." vs "US") and each CJK character is a token."""
    return _TOKEN_RE.findall(text)


@dataclass(frozen=True)
class _Term:
    text: str
    tokens: tuple[str, ...]  # lower-cased unless case_sensitive
    case_sensitive: bool
    prefix: bool  # last token matches as a prefix ("tariff*")
    labels: tuple[str, ...]


class TermMatcher:
    """Finds terms in token streams: at each position the longest matching term wins and its
    tokens are consumed, so "美国国务院" beats "国务院" and "Washington Post" (a mask) beats
    "Washington". A dictionary keyed by the first token keeps this linear in the text length;
    a single regular expression over hundreds of terms was a thousand times slower."""

    def __init__(self, labelled_terms: list[tuple[str, str]], descriptors=(), former=()):
        # a side's term joined by a hyphen to one of these ("CCP-tied", "US-based") is matched
        # with it and labelled as the country (side:country), never as an actor; so is an actor
        # shortly after one of `former` ("former Trump adviser", "ex-CIA chief"): a former
        # official speaks for no government
        self._descriptors = frozenset(d.lower() for d in descriptors)
        self._former = frozenset(f.lower() for f in former)
        labels_by_term: dict[str, list[str]] = {}
        for label, term in labelled_terms:
            key = term.strip().translate(DASHES)
            if key:
                labels_by_term.setdefault(key, [])
                if label not in labels_by_term[key]:
                    labels_by_term[key].append(label)
        self._by_first: dict[str, list[_Term]] = {}
        self._prefix_single: dict[str, list[_Term]] = {}
        self._prefix_hits: set[str] = set()
        self._prefix_misses: set[str] = set()
        for text, labels in labels_by_term.items():
            prefix = text.endswith("*")
            body = text[:-1] if prefix else text
            tokens = tokenize(body)
            if not tokens:
                continue
            # acronyms ("US", "PLA") and short capitalised names ("Xi", "Qin") match only as
            # written: "us", "pla" and a football team's "starting XI" are not sides
            case_sensitive = (bool(_ACRONYM_RE.match(body)) and len(body.replace(".", "")) <= 6) or bool(
                _SHORT_NAME_RE.match(body)
            )
            keyed = tuple(tokens if case_sensitive else (t.lower() for t in tokens))
            compiled = _Term(text, keyed, case_sensitive, prefix, tuple(labels))
            if prefix and len(keyed) == 1:
                self._prefix_single.setdefault(keyed[0][:3].lower(), []).append(compiled)
            else:
                self._by_first.setdefault(keyed[0].lower(), []).append(compiled)
        for bucket in (*self._by_first.values(), *self._prefix_single.values()):
            bucket.sort(key=lambda t: (-len(t.tokens), -len(t.tokens[-1])))
        # A bucket is tried in order and its first match wins. Common first words ("US",
        # "Chinese", "美") start a score of terms each, and nearly every one is tried in vain at
        # every mention: a term of two words or more is also filed under its first two, so only
        # those that can match are tried (with the bucket's one- and prefix-word terms, each
        # kept at its rank in the bucket, so the winner is the same).
        self._by_pair: dict[tuple[str, str], list[tuple[int, _Term]]] = {}
        self._by_first_short: dict[str, list[tuple[int, _Term]]] = {}
        for first, bucket in self._by_first.items():
            for rank, filed in enumerate(bucket):
                if len(filed.tokens) >= 2 and not (filed.prefix and len(filed.tokens) == 2):
                    self._by_pair.setdefault((first, filed.tokens[1].lower()), []).append((rank, filed))
                else:
                    self._by_first_short.setdefault(first, []).append((rank, filed))

    @staticmethod
    def _matches(term: _Term, tokens: list[str], lowered: list[str], i: int) -> bool:
        n = len(term.tokens)
        if i + n > len(tokens):
            return False
        source = tokens if term.case_sensitive else lowered
        for k in range(n - 1):
            if source[i + k] != term.tokens[k]:
                return False
        last = source[i + n - 1]
        if term.prefix:
            return last.startswith(term.tokens[-1])
        return last == term.tokens[-1]

    def find_tokens(self, tokens: list[str], lowered: list[str] | None = None, spans: bool = False) -> list[tuple]:
        """(label, term) for every match; with spans, (label, term, first token, end token)."""
        if lowered is None:
            lowered = [t.lower() for t in tokens]
        # Most tokens cannot start any term: find the few positions that can with set operations
        # (C speed) and only walk those; the result is the same as trying every position.
        by_first, prefix_single = self._by_first, self._prefix_single
        by_pair, by_first_short, last = self._by_pair, self._by_first_short, len(lowered) - 1
        unique = set(lowered)
        starts = unique & by_first.keys()
        if prefix_single:
            starts |= self._prefix_starts(unique - starts)
        if not starts:
            return []
        found: list[tuple] = []  # (label, term) or, with spans, (label, term, start, end)
        free_from = 0  # tokens before this were consumed by the previous match
        for i in [i for i, t in enumerate(lowered) if t in starts]:
            if i < free_from:
                continue
            best, best_rank = None, _NO_RANK
            first = lowered[i]
            if i < last:
                for rank, term in by_pair.get((first, lowered[i + 1]), ()):
                    if self._matches(term, tokens, lowered, i):
                        best, best_rank = term, rank
                        break
            for rank, term in by_first_short.get(first, ()):
                if rank > best_rank:
                    break
                if self._matches(term, tokens, lowered, i):
                    best = term
                    break
            if best is None and len(lowered[i]) >= 3:
                for term in prefix_single.get(lowered[i][:3], ()):
                    if self._matches(term, tokens, lowered, i):
                        best = term
                        break
            if best is None:
                continue
            free_from = i + len(best.tokens)
            text, labels = best.text, best.labels
            if (
                self._descriptors
                and free_from + 1 < len(tokens)
                and tokens[free_from] == "-"
                and lowered[free_from + 1] in self._descriptors
            ):
                text = f"{text}-{tokens[free_from + 1]}"
                labels = tuple(dict.fromkeys(_as_country(label) for label in labels))
                free_from += 2
            elif self._former and not self._former.isdisjoint(lowered[max(0, i - _FORMER_WINDOW) : i]):
                labels = tuple(dict.fromkeys(_as_country(label) for label in labels))
            if spans:
                found.extend((label, text, i, free_from) for label in labels)
            else:
                found.extend((label, text) for label in labels)
        return found

    def _prefix_starts(self, tokens: set[str]) -> set[str]:
        """The tokens that can start a one-word prefix term ("tariff*"): looked up once per
        token and remembered, so an article costs set operations, not a loop over its words."""
        hits, misses = self._prefix_hits, self._prefix_misses
        for token in tokens - hits - misses:
            (hits if len(token) >= 3 and token[:3] in self._prefix_single else misses).add(token)
        found = tokens & hits
        if len(hits) + len(misses) > _REMEMBERED_TOKENS:  # bounded: start over (about 20 MB)
            hits.clear()
            misses.clear()
        return found

    def find(self, text: str) -> list[tuple[str, str]]:
        """(label, term) for every match in `text`."""
        return self.find_tokens(tokenize(text)) if text else []


_NO_RANK = 1 << 30  # above any rank in a bucket: nothing matched yet
_REMEMBERED_TOKENS = 200_000

_FORMER_WINDOW = 4  # "former Secretary of State Pompeo": "former" up to 4 tokens before the name


def _as_country(label: str) -> str:
    side, _, kind = label.partition(":")
    return f"{side}:country" if side in ("us", "china") and kind in ("strong", "country", "headline") else label


_DASH_PAIRS = tuple((chr(k), v) for k, v in DASHES.items())


def prepare_text(text: str) -> str:
    """The text as the terms are written: NFKC, typographic dashes and quotes made ASCII."""
    if not text or text.isascii():  # NFKC and the dash/quote table change no ASCII character
        return text or ""
    text = unicodedata.normalize("NFKC", text)
    # str.replace per character present, not str.translate: translate looks every character of
    # a non-ASCII text up in the table: 48 us on a 700-character summary, against 1.5 us
    for dash, ascii_dash in _DASH_PAIRS:
        if dash in text:
            text = text.replace(dash, ascii_dash)
    return text
