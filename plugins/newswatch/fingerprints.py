"""Text fingerprints for story clustering, in pure code: a MinHash signature of an article's
headline and summary, its LSH band keys, a title key, and the rules that call two fingerprints
the same story (dedupe.plan_stories uses them)."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np

NUM_PERM = 96
BANDS = 48
ROWS = NUM_PERM // BANDS  # 2 rows a band: a pair at Jaccard 0.2 shares a band 86% of the time
SHINGLE = 3
TITLE_KEY_MIN_TOKENS = 6

# Verification, chosen on the dev part of tests/data/story_pairs.jsonl (`make eval`): the
# overlap coefficient |A∩B| / min(|A|, |B|) of the two texts' shingle sets. It, not Jaccard,
# is what stays high when a reprint trims or extends the summary, or when a Google News
# pointer carries only the headline.
SAME_STORY_OVERLAP = 0.65
MIN_SHINGLES_FOR_OVERLAP = 3  # below this (a 4-word headline alone) only near-identity counts
SHORT_TEXT_JACCARD = 0.9

# Reprints are recognisable from their opening: the first MAX_TOKENS words of title + summary
# are enough, and long full-text summaries would only add cost.
MAX_TOKENS = 200

# Bodies (full text): their first BODY_MAX_TOKENS words. Two bodies are one text (a reprint,
# however trimmed) when their shingle sets overlap at least BODY_SAME_TEXT_OVERLAP. Measured on
# the 88 real article pages of ../shared/articles (tests/unit/test_story_bodies.py): bodies of
# different articles overlap at most 0.20; a reprint cut to its first 40% of paragraphs, with a
# footer added, still overlaps at least 0.48.
BODY_MAX_TOKENS = 1000
BODY_SAME_TEXT_OVERLAP = 0.3
# Below this many shingles a body is too short to compare: a MinHash overlap estimate between a
# 10-word text and a long one is mostly noise (on those pages a 10-word opening was taken for
# another article 16 times in 7,656 pairs), so a shorter body counts as no body.
BODY_MIN_SHINGLES = 50

_WORD_RE = re.compile(r"[0-9a-z\u00e0-\u024f]+|[\u3400-\u4dbf\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]")


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of datasketch's affine32 scheme for NUM_PERM and our seed, as uint32 rows,
    generated as datasketch's MinHash._init_permutations generates them (tests/unit/test_dedupe.py
    holds the signatures equal to datasketch's). Not imported from datasketch: importing it loads
    its LSH indexes and SciPy, 1.5-2.5 s of CPU in every poll process for two rows of numbers."""
    gen = np.random.RandomState(7)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a.reshape(1, -1), b.reshape(1, -1)


def minhash_signature(grams: set[bytes]) -> np.ndarray:
    """datasketch's MinHash (affine32 scheme) of `grams`, computed without a MinHash object: the
    same values (tests/unit/test_dedupe.py holds them equal), at a fraction of the cost, since
    building the object and hashing through its Python-level loop was most of fingerprint().

    Shingles are hashed with CRC-32, not datasketch's default SHA-1: the scheme mixes every input
    hash (murmur3's finaliser) before the permutations, so CRC-32's weak avalanche does not
    matter here and it is 15x cheaper."""
    a, b = _permutations()
    if not grams:
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    hv = np.fromiter(map(zlib.crc32, grams), dtype=np.uint32, count=len(grams))
    # murmur3's 32-bit finaliser; uint32 arithmetic wraps as the scheme intends
    hv ^= hv >> np.uint32(16)
    hv *= np.uint32(0x85EBCA6B)
    hv ^= hv >> np.uint32(13)
    hv *= np.uint32(0xC2B2AE35)
    hv ^= hv >> np.uint32(16)
    # one (shingles x NUM_PERM) array, added to in place: a third cheaper than `hv * a + b`
    permuted = np.multiply.outer(hv, a[0])
    permuted += b[0]
    return permuted.min(axis=0)


def text_tokens(text: str) -> list[str]:
    """Lower-cased words; each CJK character is a token (Chinese has no spaces)."""
    text = unicodedata.normalize("NFKC", text or "").lower().replace("'", "").replace("\u2019", "")
    return _WORD_RE.findall(text)


def shingles(tokens: list[str], k: int = SHINGLE) -> set[bytes]:
    if not tokens:
        return set()
    if len(tokens) <= k:
        return {" ".join(tokens).encode("utf-8")}
    # joining the encoded tokens k at a time with map/zip keeps the loop in C; so does encoding
    # them all at once (a token never holds a space: text_tokens' words and CJK characters)
    encoded = " ".join(tokens).encode("utf-8").split(b" ")
    return set(map(b" ".join, zip(*(encoded[i:] for i in range(k)), strict=False)))


def _key(*parts) -> int:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def title_key(title: str) -> int | None:
    tokens = text_tokens(title)
    # CJK titles count characters: six of them carry about as much as six English words.
    if len(tokens) < TITLE_KEY_MIN_TOKENS:
        return None
    return _key("title", " ".join(tokens))


_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
)
_DATE_MARK_RE = re.compile(r"(?:19|20)\d\d|\d{1,2}\s*[年月日]|\b(?:" + "|".join(_MONTHS) + r")\b", re.IGNORECASE)


def title_dates(title: str) -> str | None:
    """The numbers of a dated headline ("Regular Press Conference on March 4, 2024" -> "2024 4"),
    or None when the headline carries no date. Two dated headlines with different numbers are
    different editions of a recurring format, however alike the rest of their text is."""
    if not title or not _DATE_MARK_RE.search(title):
        return None
    numbers = sorted({t for t in text_tokens(title) if t.isdigit()})
    return " ".join(numbers) if numbers else None


@dataclass(frozen=True)
class Fingerprint:
    signature: bytes  # NUM_PERM uint32 MinHash values
    shingle_count: int
    title_key: int | None
    has_summary: bool
    title_dates: str | None = None

    @property
    def hashvalues(self) -> np.ndarray:
        return np.frombuffer(self.signature, dtype=np.uint32)

    def keys(self) -> list[int]:
        return keys_of([self])[0]


_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    # splitmix64's finaliser: a cheap, well-distributed 64-bit mix (numpy wraps on overflow)
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def band_keys_batch(signatures: list[bytes]) -> np.ndarray:
    """(len(signatures), BANDS) signed 64-bit LSH keys, computed for a whole batch at once:
    hashing band by band in Python cost more than computing the signatures."""
    values = np.frombuffer(b"".join(signatures), dtype=np.uint32).astype(np.uint64)
    rows = values.reshape(len(signatures), BANDS, ROWS)
    with np.errstate(over="ignore"):
        x = np.broadcast_to(_BAND_SALT, (len(signatures), BANDS)).copy()
        for r in range(ROWS):
            x = _mix64(x ^ rows[:, :, r])
    return x.view(np.int64)


def keys_of(fingerprints: list[Fingerprint]) -> list[list[int]]:
    """Every fingerprint's lookup keys: its LSH band keys, then its title key when it has one."""
    if not fingerprints:
        return []
    bands = band_keys_batch([fp.signature for fp in fingerprints])
    return [
        row.tolist() + ([fp.title_key] if fp.title_key is not None else [])
        for row, fp in zip(bands, fingerprints, strict=True)
    ]


def fingerprint(title: str, summary: str) -> Fingerprint:
    tokens = text_tokens(f"{title} {summary}")[:MAX_TOKENS]
    grams = shingles(tokens)
    return Fingerprint(
        signature=minhash_signature(grams).tobytes(),
        shingle_count=len(grams),
        title_key=title_key(title),
        has_summary=bool(summary and summary.strip()),
        title_dates=title_dates(title),
    )


def body_fingerprint(body: str) -> Fingerprint:
    """The fingerprint of an article's fetched body (its opening), for same_body."""
    grams = shingles(text_tokens(body)[:BODY_MAX_TOKENS])
    return Fingerprint(minhash_signature(grams).tobytes(), len(grams), None, True, None)


def comparable_body(fp: Fingerprint | None) -> bool:
    return fp is not None and fp.shingle_count >= BODY_MIN_SHINGLES


def same_body(a: Fingerprint, b: Fingerprint) -> bool:
    """Are these two bodies one text (reprints of each other, however trimmed)?"""
    if not (comparable_body(a) and comparable_body(b)):
        return False
    return estimated_overlap(a, b) >= BODY_SAME_TEXT_OVERLAP


def same_body_pairs(fps: list[Fingerprint]) -> list[tuple[int, int]]:
    """Every (i, j), i < j, of comparable bodies that are one text: same_body over all pairs at
    once (a wire story's family can hold hundreds of bodies)."""
    if len(fps) < 2:
        return []
    hv = np.stack([fp.hashvalues for fp in fps])
    j = (hv[:, None, :] == hv[None, :, :]).sum(axis=2) / NUM_PERM
    sizes = np.array([fp.shingle_count for fp in fps], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        intersection = j * (sizes[:, None] + sizes[None, :]) / (1 + j)
        overlap = np.minimum(1.0, intersection / np.minimum(sizes[:, None], sizes[None, :]))
    ok = np.array([comparable_body(fp) for fp in fps])
    same = (overlap >= BODY_SAME_TEXT_OVERLAP) & (j > 0) & ok[:, None] & ok[None, :]
    return [(int(a), int(b)) for a, b in zip(*np.nonzero(np.triu(same, k=1)), strict=True)]


def estimated_jaccard(a: Fingerprint, b: Fingerprint) -> float:
    if not a.shingle_count or not b.shingle_count:
        return 0.0
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / NUM_PERM


def estimated_overlap(a: Fingerprint, b: Fingerprint) -> float:
    """|A∩B| / min(|A|, |B|), from the Jaccard estimate and the two set sizes."""
    return _overlap(a, b, estimated_jaccard(a, b))


def _overlap(a: Fingerprint, b: Fingerprint, j: float) -> float:
    if j <= 0:
        return 0.0
    intersection = j * (a.shingle_count + b.shingle_count) / (1 + j)
    return min(1.0, intersection / min(a.shingle_count, b.shingle_count))


def same_story_each(a: Fingerprint, others: list[Fingerprint]) -> list[tuple[bool, str, float]]:
    """same_story(a, b) for every b in `others`, with the signatures compared in one array
    operation: the merge verifies every candidate a new article's keys find (ten to twenty on a
    large first poll), and pair by pair the numpy call overhead was most of plan_stories."""
    if not others:
        return []
    equal = (np.stack([b.hashvalues for b in others]) == a.hashvalues).sum(axis=1).tolist()
    return [_same_story(a, b, matches / NUM_PERM) for b, matches in zip(others, equal, strict=True)]


def same_story(a: Fingerprint, b: Fingerprint) -> tuple[bool, str, float]:
    """Are these two texts the same story? (decision, which rule, estimated overlap)."""
    return _same_story(a, b, float(np.count_nonzero(a.hashvalues == b.hashvalues)) / NUM_PERM)


def _same_story(a: Fingerprint, b: Fingerprint, jaccard_of_signatures: float) -> tuple[bool, str, float]:
    if a.title_dates is not None and b.title_dates is not None and a.title_dates != b.title_dates:
        return False, "different_dates", 0.0
    j = jaccard_of_signatures if a.shingle_count and b.shingle_count else 0.0
    overlap = _overlap(a, b, j)
    if min(a.shingle_count, b.shingle_count) < MIN_SHINGLES_FOR_OVERLAP:
        if j >= SHORT_TEXT_JACCARD:
            return True, "same_short_text", overlap
        return False, "too_short", overlap
    if overlap >= SAME_STORY_OVERLAP:
        return True, ("pointer" if not (a.has_summary and b.has_summary) else "same_text"), overlap
    return False, "different", overlap
