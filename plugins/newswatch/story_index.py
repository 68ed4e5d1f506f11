"""The clustering window's story keys, in memory: which known articles share an LSH band key (or
the title key) with a batch's new articles. Pure code: the warehouse feeds it fingerprints
(warehouse/stories.py) and asks it for candidates.

The keys used to be rows of news.story_bands, 49 per article, written and indexed by every merge
and joined against by every batch: the largest single share of a first poll's merge (about 40%
of the load floor). They are a function of the fingerprint the warehouse keeps anyway
(news.article_fingerprints: signature and title key), so the merge derives them once per process
and keeps them here, in sorted numpy arrays (24 bytes a key, 3.3 million keys for a
100,000-entry first poll in about 80 MB), where a batch's 250,000 lookups take milliseconds.

Keys added by a transaction are staged and become visible only when the caller says it committed
(`commit`), so a batch that rolls back leaves no keys behind."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np

from .fingerprints import band_keys_batch


class StoryKeyIndex:
    def __init__(self) -> None:
        # (keys sorted, article ids, seen_at as epoch seconds), one triple per segment
        self._segments: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._staged: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._staged_high_water = 0
        self.loaded = False  # the window was read from the warehouse
        self.high_water = 0  # every article with a larger id was added since the index last looked
        self._oldest_needed = float("-inf")

    def __len__(self) -> int:
        return sum(len(keys) for keys, _, _ in self._segments)

    def add(
        self,
        article_ids: Sequence[int],
        signatures: Sequence[bytes],
        title_keys: Sequence[int | None],
        seen_at: Sequence[datetime],
        *,
        staged: bool = False,
    ) -> None:
        """Index these articles under their fingerprints' keys: every LSH band key, plus the title
        key when there is one, each dated `seen_at` (the clustering window is applied to it). An
        article added again (its text was revised) keeps its earlier keys too: they may still lead
        a later reprint of the earlier text to it. With `staged`, the keys wait for `commit`."""
        if not article_ids:
            return
        ids = np.asarray(article_ids, dtype=np.int64)
        seen = np.asarray([s.timestamp() for s in seen_at], dtype=np.float64)
        bands = band_keys_batch(list(signatures))
        titled = [i for i, key in enumerate(title_keys) if key is not None]
        keys = np.concatenate([bands.ravel(), np.asarray([title_keys[i] for i in titled], dtype=np.int64)])
        owners = np.concatenate([np.repeat(ids, bands.shape[1]), ids[titled]])
        dated = np.concatenate([np.repeat(seen, bands.shape[1]), seen[titled]])
        order = np.argsort(keys, kind="stable")
        segment = (keys[order], owners[order], dated[order])
        if staged:
            self._staged.append(segment)
            self._staged_high_water = max(self._staged_high_water, int(ids.max()))
        else:
            self._segments.append(segment)
            self.high_water = max(self.high_water, int(ids.max()))
            self._compact()

    def commit(self) -> None:
        """The transaction that staged keys committed: they count from now on."""
        self._segments += self._staged
        self.high_water = max(self.high_water, self._staged_high_water)
        self.discard()
        self._compact()

    def discard(self) -> None:
        """The transaction that staged keys rolled back: forget them."""
        self._staged = []
        self._staged_high_water = 0

    def matches(self, keys: Iterable[int], since: datetime) -> dict[int, list[int]]:
        """Article id -> the given keys it is indexed under, for the articles indexed at or after
        `since`, in ascending article id."""
        wanted = np.unique(np.fromiter(keys, dtype=np.int64))
        self._oldest_needed = max(self._oldest_needed, since.timestamp())
        found_ids, found_keys = [], []
        for seg_keys, seg_ids, seg_seen in self._segments:
            lo = np.searchsorted(seg_keys, wanted, side="left")
            counts = np.searchsorted(seg_keys, wanted, side="right") - lo
            hit = counts > 0
            if not hit.any():
                continue
            lo, counts = lo[hit], counts[hit]
            # positions lo[i] .. lo[i] + counts[i] - 1 for every hit, as one array
            starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
            positions = starts + np.arange(int(counts.sum()))
            recent = seg_seen[positions] >= since.timestamp()
            found_ids.append(seg_ids[positions][recent])
            found_keys.append(seg_keys[positions][recent])
        if not found_ids:
            return {}
        ids = np.concatenate(found_ids)
        keys_found = np.concatenate(found_keys)
        order = np.lexsort((keys_found, ids))
        result: dict[int, list[int]] = {}
        for article, key in zip(ids[order].tolist(), keys_found[order].tolist(), strict=True):
            article_keys = result.setdefault(article, [])
            if not article_keys or article_keys[-1] != key:  # an article added twice
                article_keys.append(key)
        return result

    def _compact(self) -> None:
        """Merge the newest segment into the one before it while it is at least half that size,
        dropping keys older than any window a lookup asked for (windows only move forward). So
        segments grow geometrically: a lookup walks a few of them (about log2 of the keys per
        batch), and each key is re-sorted a few times in all, however many small batches a poll
        merges while it stages (every second)."""
        while len(self._segments) > 1 and 2 * len(self._segments[-1][0]) >= len(self._segments[-2][0]):
            newer, older = self._segments.pop(), self._segments.pop()
            # one column at a time, each copy freed before the next: on a 100,000-entry first
            # poll the last merge handles 3 million keys, and doing the columns at once tripled
            # the transient memory
            keys = np.concatenate((older[0], newer[0]))
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
            ids = np.concatenate((older[1], newer[1]))[order]
            seen = np.concatenate((older[2], newer[2]))[order]
            del newer, older, order
            if len(seen) and seen.min() < self._oldest_needed:
                recent = seen >= self._oldest_needed
                keys, ids, seen = keys[recent], ids[recent], seen[recent]
            self._segments.append((keys, ids, seen))
