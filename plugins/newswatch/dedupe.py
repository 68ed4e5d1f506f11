"""Dedupe, revisions and story clustering, decided in pure code.

The merge reads staged entries and what the warehouse already knows about them, asks this
module what to do, and applies the answer. Nothing here touches a database:

- `plan_merge` decides, per staged entry, whether it is a new article, a revision of a known
  one, or another sighting of a known one (exact keys: the (feed, GUID) pair, then the
  canonical URL).
- `fingerprints.fingerprint` turns an article's text into a MinHash signature plus LSH band
  keys and a title key; `plan_stories` groups new articles with candidates that share a key into stories
  (reprints of the same text, and Google News pointers to an article) and keeps different
  texts about the same event apart.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from .fingerprints import Fingerprint, comparable_body, same_body_pairs, same_story, same_story_each, text_tokens

# --- story assignment -----------------------------------------------------------------------


@dataclass
class StoryCandidate:
    article_id: int
    story_id: int
    fingerprint: Fingerprint
    keys: list[int] | None = None  # the band keys it is stored under, when the caller knows them


@dataclass
class NewForClustering:
    ref: int  # the new article's temporary id (negative)
    fingerprint: Fingerprint
    keys: list[int] | None = None  # its band keys, when the caller computed them in bulk


@dataclass
class StoryPlan:
    # new article ref -> existing story_id (positive) or a new story ref (negative, = the ref of
    # the article that founds it)
    story_of: dict[int, int] = field(default_factory=dict)
    new_stories: list[int] = field(default_factory=list)
    evidence: dict[int, tuple[str, float, int]] = field(default_factory=dict)


def plan_stories(
    new_articles: list[NewForClustering],
    candidates: list[StoryCandidate],
    story_texts: dict[int, list[Fingerprint]] | None = None,
) -> StoryPlan:
    """Give every new article a story: the story of its best-matching candidate, else a new one.

    `candidates` are known articles that share at least one band key with a new article (the
    caller fetches them from the warehouse, within the clustering window). New articles in the
    same batch are candidates for each other, in order.

    A headline-only entry (a Google News pointer, a feed without summaries) matches any article
    with a similar headline, so it must not bridge two different texts: an article with text
    joins a story through a headline-only member only if none of the story's members with text
    (`story_texts`: story id -> fingerprints, as the caller found them, plus the candidates and
    this batch) is a different text. Of equally good matches, one with text wins.
    """
    plan = StoryPlan()
    by_key: dict[int, list[StoryCandidate]] = {}
    # story -> its members that carry text
    with_text: dict[int, list[Fingerprint]] = {k: list(v) for k, v in (story_texts or {}).items()}
    for cand in candidates:
        keys = cand.keys if cand.keys is not None else cand.fingerprint.keys()
        for key in keys:
            by_key.setdefault(key, []).append(cand)
        if cand.fingerprint.has_summary:
            with_text.setdefault(cand.story_id, []).append(cand.fingerprint)
    item_keys = [item.keys if item.keys is not None else item.fingerprint.keys() for item in new_articles]
    linking = _linking_keys(item_keys, by_key.keys())

    def bridges_different_texts(fp: Fingerprint, cand: StoryCandidate) -> bool:
        if not fp.has_summary or cand.fingerprint.has_summary:
            return False
        return any(not same_story(fp, member)[0] for member in with_text.get(cand.story_id, ()))

    for item, all_keys in zip(new_articles, item_keys, strict=True):
        keys = [key for key in all_keys if key in linking] if linking else []
        found: dict[int, StoryCandidate] = {}  # every candidate once, in the order a key finds it
        for key in keys:
            for cand in by_key.get(key, ()):
                found.setdefault(cand.article_id, cand)
        best: tuple[float, StoryCandidate, str] | None = None
        verdicts = same_story_each(item.fingerprint, [c.fingerprint for c in found.values()])
        for cand, (same, rule, j) in zip(found.values(), verdicts, strict=True):
            if not same or bridges_different_texts(item.fingerprint, cand):
                continue
            if best is None or (j, cand.fingerprint.has_summary) > (best[0], best[1].fingerprint.has_summary):
                best = (j, cand, rule)
        if best is not None:
            story = best[1].story_id
            plan.evidence[item.ref] = (best[2], round(best[0], 3), best[1].article_id)
        else:
            story = item.ref
            plan.new_stories.append(item.ref)
        plan.story_of[item.ref] = story
        me = StoryCandidate(item.ref, story, item.fingerprint)
        for key in keys:
            by_key.setdefault(key, []).append(me)
        if item.fingerprint.has_summary:
            with_text.setdefault(story, []).append(item.fingerprint)
    return plan


def _linking_keys(item_keys: list[list[int]], candidate_keys) -> set[int]:
    """The keys that can link two articles: held by a candidate, or by two of the new articles.
    Nearly every key of a batch is its article's alone; plan_stories neither looks those up nor
    files its articles under them, which finds the same candidates in the same order."""
    flat = np.fromiter(itertools.chain.from_iterable(item_keys), dtype=np.int64)
    values, counts = np.unique(flat, return_counts=True)
    linking = set(values[counts > 1].tolist())
    linking.update(candidate_keys)
    return linking


# --- stories checked against full text ------------------------------------------------------


@dataclass(frozen=True)
class StoryMember:
    article_id: int
    story_id: int
    seen_at: datetime
    body: Fingerprint | None = None  # fetched body's fingerprint; None: no full text (yet)


@dataclass
class Regrouping:
    moves: dict[int, int] = field(default_factory=dict)  # article_id -> story id, or a new story's ref (< 0)
    new_stories: list[int] = field(default_factory=list)  # refs of the stories to create


def regroup_by_body(members: list[StoryMember], family: int) -> Regrouping:
    """A story family (a story the merge made from headlines and summaries, and the stories
    split from it) grouped again by its articles' bodies. Articles whose pages were fetched stay
    together only when their bodies are one text, linked in a chain (A~B and B~C keep all three);
    articles without a body (or one too short to compare) stay where they are. Articles only move
    within the family: two articles share a story only if the merge had put them in one.

    Groups are placed in order of their earliest article; each keeps a story of the family one of
    its members is in: the family's first story (`family`) when it can, else the one most of them
    are in, and a story goes to one group only. So the groups, unlike the ids of the stories split
    off, do not depend on the order the bodies arrived, the first story is never emptied, and a
    second call moves nothing."""
    with_body = sorted((m for m in members if comparable_body(m.body)), key=lambda m: (m.seen_at, m.article_id))
    parent = list(range(len(with_body)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in same_body_pairs([m.body for m in with_body if m.body is not None]):
        if root(i) != root(j):
            parent[root(j)] = root(i)
    groups: dict[int, list[StoryMember]] = {}
    for i, member in enumerate(with_body):
        groups.setdefault(root(i), []).append(member)  # in seen order, as with_body is
    plan, taken, next_ref = Regrouping(), set(), -1
    for group in sorted(groups.values(), key=lambda g: (g[0].seen_at, g[0].article_id)):
        counts = Counter(m.story_id for m in group)
        ranked = sorted(counts, key=lambda story: (story != family, -counts[story], story))
        story = next((s for s in ranked if s not in taken), None)
        if story is None:
            story, next_ref = next_ref, next_ref - 1
            plan.new_stories.append(story)
        taken.add(story)
        plan.moves.update({m.article_id: story for m in group if m.story_id != story})
    return plan


# --- exact dedupe, identity and revisions ---------------------------------------------------


@dataclass
class StagedEntry:
    staged_id: int
    fetch_id: int
    feed_name: str
    canonical_url: str
    url: str
    guid: str | None
    title: str
    summary: str
    content_hash: str
    seen_at: datetime
    fingerprint: Fingerprint | None = None


@dataclass
class KnownArticle:
    article_id: int
    canonical_url: str
    title: str
    summary: str
    content_hash: str
    revision: int
    changed_at: datetime  # when the current text became current (updated_at or first_seen_at)
    text_feed: str | None = None  # the feed whose text the article carries
    fingerprint: Fingerprint | None = None  # known when a GUID match must be checked against it


@dataclass
class Revision:
    """The text an article had before an update, kept in news.article_revisions."""

    revision: int
    title: str
    summary: str
    content_hash: str
    valid_from: datetime
    valid_to: datetime


@dataclass
class ArticleUpdate:
    article_id: int
    staged_id: int  # the entry whose text becomes current
    new_revision: int
    previous: Revision
    text_feed: str = ""  # the feed that gave the new text


@dataclass
class SightingUpsert:
    article_ref: int  # article_id, or a new article's negative ref
    staged_id: int
    feed_name: str
    url: str
    guid: str | None
    content_hash: str
    seen_at: datetime  # the latest entry's (its URL, GUID and text hash are the sighting's now)
    first_seen_at: datetime | None = None  # the earliest entry's in the batch; None: seen_at
    times: int = 1  # entries of the batch that are this sighting (polls merged together)


@dataclass
class MergePlan:
    # new article ref -> the staged entry that created it (its URL, first sighting, feed)
    new_articles: dict[int, int] = field(default_factory=dict)
    # new article ref -> the staged entry whose text it carries (see plan_merge)
    text_of: dict[int, int] = field(default_factory=dict)
    updates: list[ArticleUpdate] = field(default_factory=list)
    sightings: dict[tuple[int, str], SightingUpsert] = field(default_factory=dict)
    outcomes: dict[int, str] = field(default_factory=dict)  # staged_id -> outcome
    article_of: dict[int, int] = field(default_factory=dict)  # staged_id -> article ref
    # names the warehouse did not yet know for an article: canonical URL -> ref, and
    # (feed, GUID) -> ref (a GUID that named another article before now names this one)
    url_aliases: dict[str, int] = field(default_factory=dict)
    guid_aliases: dict[tuple[str, str], int] = field(default_factory=dict)
    # feeds caught giving an old GUID to a different text
    guid_reusers: set[str] = field(default_factory=set)


def _fuller(entry: StagedEntry, than: KnownArticle, than_feed: str) -> bool:
    """Is `entry`'s text preferred to the one a new article carries? Longer summary first, then
    the feed whose name sorts first, so the choice does not depend on arrival order."""
    if len(entry.summary) != len(than.summary):
        return len(entry.summary) > len(than.summary)
    return entry.feed_name < than_feed


def clearly_fuller(entry: StagedEntry, than: KnownArticle) -> bool:
    """Does `entry` carry clearly more text than a stored article? A stored article's text is
    replaced by another feed's only for a real gain (a fifth more, at least 40 characters), so
    excerpts of slightly different length never take turns."""
    gain = len(entry.summary) - len(than.summary)
    return gain >= max(40, len(than.summary) // 5)


def _words(text: str) -> set[str]:
    return set(text_tokens(text))


def texts_agree(entry: StagedEntry, article: KnownArticle) -> bool:
    """Is `entry` plausibly the same article as `article` (an edit of it), rather than another
    story under a recycled GUID? The same summary, the same text by fingerprint, or headlines
    that share at least half their words."""
    if entry.summary and entry.summary == article.summary:
        return True
    if (
        entry.fingerprint is not None
        and article.fingerprint is not None
        and same_story(entry.fingerprint, article.fingerprint)[0]
    ):
        return True
    a, b = _words(entry.title), _words(article.title)
    return bool(a and b) and len(a & b) / len(a | b) >= 0.5


def unreliable_guids(entries: list[StagedEntry]) -> set[tuple[int, str]]:
    """(fetch, GUID) pairs that one fetch gave to entries with different links: a feed that
    reuses its GUIDs (some put the site's address in every <guid>) cannot be trusted on them."""
    links: dict[tuple[int, str], set[str]] = {}
    for e in entries:
        if e.guid:
            links.setdefault((e.fetch_id, e.guid), set()).add(e.canonical_url)
    return {key for key, urls in links.items() if len(urls) > 1}


_NEVER = "__never__"  # a feed that has not carried the article before


class _Planner:
    """plan_merge's state while it walks the batch in staging order."""

    def __init__(self, entries, known_by_url, known_by_guid, known_sightings, known_by_id):
        self.plan = MergePlan()
        self.by_id = dict(known_by_id or {})
        for article in known_by_url.values():
            self.by_id.setdefault(article.article_id, article)
        self.urls: dict[str, int] = {url: a.article_id for url, a in known_by_url.items()}
        self.guids: dict[tuple[str, str], int] = dict(known_by_guid)
        self.untrusted = unreliable_guids(entries)
        self.sighting_hash = dict(known_sightings)
        self.current: dict[int, KnownArticle] = {}  # the text each article carries now, in this batch
        self.next_ref = -1

    def article(self, ref: int) -> KnownArticle | None:
        return self.current.get(ref) or self.by_id.get(ref)

    def identify(self, entry: StagedEntry) -> int | None:
        """The article this entry names: by canonical URL, else by a GUID this feed gave before,
        when the text agrees (else the GUID was recycled for another story)."""
        ref = self.urls.get(entry.canonical_url)
        key = (entry.feed_name, entry.guid or "")
        if ref is not None or not entry.guid or (entry.fetch_id, entry.guid) in self.untrusted:
            return ref
        by_guid = self.guids.get(key)
        if by_guid is None:
            return None
        known = self.article(by_guid)
        if known is not None and not texts_agree(entry, known):
            self.plan.guid_reusers.add(entry.feed_name)
            return None
        self.urls[entry.canonical_url] = by_guid  # the same item, its link changed
        self.plan.url_aliases[entry.canonical_url] = by_guid
        return by_guid

    def new_article(self, entry: StagedEntry) -> int:
        ref, self.next_ref = self.next_ref, self.next_ref - 1
        self.plan.new_articles[ref] = self.plan.text_of[ref] = entry.staged_id
        self.current[ref] = KnownArticle(
            ref, entry.canonical_url, entry.title, entry.summary, entry.content_hash, 1, entry.seen_at, entry.feed_name
        )
        self.urls[entry.canonical_url] = ref
        self.plan.url_aliases[entry.canonical_url] = ref
        return ref

    def take_text(self, ref: int, article: KnownArticle, entry: StagedEntry) -> None:
        """`entry`'s text becomes the article's: with a revision row keeping a stored article's
        old text; a new article's earlier text was never loaded and needs none."""
        if ref > 0:
            self.plan.updates.append(
                ArticleUpdate(
                    article_id=ref,
                    staged_id=entry.staged_id,
                    new_revision=article.revision + 1,
                    previous=Revision(
                        article.revision,
                        article.title,
                        article.summary,
                        article.content_hash,
                        article.changed_at,
                        entry.seen_at,
                    ),
                    text_feed=entry.feed_name,
                )
            )
        else:
            self.plan.text_of[ref] = entry.staged_id
        self.current[ref] = KnownArticle(
            ref,
            article.canonical_url,
            entry.title,
            entry.summary,
            entry.content_hash,
            article.revision + (ref > 0),
            entry.seen_at,
            entry.feed_name,
            entry.fingerprint,
        )

    def seen_again(self, ref: int, entry: StagedEntry) -> str:
        """What a known article's new sighting does to it: a revision from the feed whose text it
        carries, another feed's clearly fuller text, or nothing but the sighting."""
        article = self.article(ref)
        if article is None:
            return "sighting"
        self.current.setdefault(ref, article)
        if article.content_hash == entry.content_hash:
            return "sighting"
        previous = self.sighting_hash.get((ref, entry.feed_name), _NEVER)
        edited_here = previous not in (_NEVER, None) and previous != entry.content_hash
        # text_feed is unknown only for articles stored before it was recorded: then any feed
        # that carried the article may revise it, as before
        if edited_here and article.text_feed in (None, entry.feed_name):
            self.take_text(ref, article, entry)
            return "updated"
        if ref < 0:
            if previous == _NEVER and _fuller(entry, article, article.text_feed or ""):
                self.take_text(ref, article, entry)
            return "sighting"
        if previous != entry.content_hash and clearly_fuller(entry, article):
            self.take_text(ref, article, entry)
            return "updated"
        return "sighting"

    def add(self, entry: StagedEntry) -> None:
        ref = self.identify(entry)
        if ref is None:
            ref, outcome = self.new_article(entry), "new"
        else:
            outcome = self.seen_again(ref, entry)
        if entry.guid and (entry.fetch_id, entry.guid) not in self.untrusted:
            key = (entry.feed_name, entry.guid)
            if self.guids.get(key) != ref:
                self.plan.guid_aliases[key] = ref
            self.guids[key] = ref
        self.sighting_hash[(ref, entry.feed_name)] = entry.content_hash
        earlier = self.plan.sightings.get((ref, entry.feed_name))
        # several polls of one feed merged in one batch (a backlog) are each a sighting: counted
        # and dated from the first, as separate merges would have
        self.plan.sightings[(ref, entry.feed_name)] = SightingUpsert(
            ref,
            entry.staged_id,
            entry.feed_name,
            entry.url,
            entry.guid,
            entry.content_hash,
            entry.seen_at,
            first_seen_at=min(earlier.first_seen_at or earlier.seen_at, entry.seen_at) if earlier else entry.seen_at,
            times=earlier.times + 1 if earlier else 1,
        )
        self.plan.outcomes[entry.staged_id] = outcome
        self.plan.article_of[entry.staged_id] = ref


def plan_merge(
    entries: list[StagedEntry],
    known_by_url: dict[str, KnownArticle],
    known_by_guid: dict[tuple[str, str], int],
    known_sightings: dict[tuple[int, str], str | None],
    known_by_id: dict[int, KnownArticle] | None = None,
) -> MergePlan:
    """Decide what each staged entry does to the warehouse.

    Identity: a canonical URL that ever named an article names it (the caller reads them from
    news.article_aliases). A GUID this feed gave before names the same article even if its link
    changed, when the text agrees; when it does not, the feed recycled the GUID for another
    story, the entry is a new article and the feed is reported (`guid_reusers`). A GUID the
    fetch gave to several links is no identity at all. An article keeps the URL it was first
    seen at; every other URL it was seen at becomes an alias of it.
    Revisions: an article's text changes when the feed whose text it carries gives a different
    text than it gave before (the publisher's edit), or when another feed brings a clearly
    fuller text; another feed's shorter or different excerpt never replaces it.
    Text of new articles: when several feeds bring a new article in the same batch, the fullest
    text (longest summary, then the first feed by name) becomes the article's, whatever order
    the polls finished in, so the article and its story do not depend on timing.
    """
    planner = _Planner(entries, known_by_url, known_by_guid, known_sightings, known_by_id)
    for entry in sorted(entries, key=lambda e: e.staged_id):
        planner.add(entry)
    return planner.plan


# --- the order in which a batch's new articles are clustered ---------------------------------


def clustering_order(
    refs: list[int], fingerprints: dict[int, Fingerprint], published: dict[int, datetime], urls: dict[int, str]
) -> list[int]:
    """Clustering is greedy (an article joins the best story formed before it), so a batch goes
    in a fixed order, not in the order the polls happened to finish: articles with text before
    headline-only ones (which then join the article they point at rather than found a story),
    then by publication, so an original founds its story and its reprints join it, then by URL."""
    return sorted(refs, key=lambda ref: (not fingerprints[ref].has_summary, published[ref], urls[ref]))
