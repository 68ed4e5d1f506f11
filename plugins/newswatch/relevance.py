"""Topic scoring: is an article US–China relations coverage, about which topics, and why.

Rules and term lists live in config/topics.yaml and config/actors.yaml so analysts can edit
them; this module compiles them into two term matchers (one for the two sides, the phrases that
mask them, bilateral terms and named incidents; one for topics, measures, third countries,
roundup markers and off-topic contexts) and scores each article from what fired and WHERE it
fired: the headline, the summary's lead (its first sentences), or the body past the lead. Both
sides must be central (headline or lead); a country named only in the body of a long summary,
the other side of a third-country headline ("Putin welcomes China's plan"), the summary of a
newsletter or live blog: those are passing mentions, and the evidence says so. What stands for
each side matters too: an actor (an official, an institution, a capital standing for its
government) or only the country's name or people ("US", "Chinese"). Two sides named only as
countries need something connecting them -- a measure, one side's statement about the other
("China warns US"), a word for their relation, a topic between them -- or the score is capped
below the threshold ("US has never seen a threat like China" is a pundit, not relations). Pure
functions: no I/O after the rules are loaded.

The evidence (`Relevance.terms`, stored as relevance_terms) has: `us`, `china`, `bilateral`,
`measures`, `topics`, `negative` (the terms that fired), `rules` (the decisions taken),
`where` (title / lead / body / null for each side and the bilateral term), `passing` (sides
judged mentioned in passing), `kind` (actor / country / weak / incident / null for each side)
and, when they play a part, `connection` (what connects two sides named only as countries;
empty when nothing does and the rule `no_interaction` capped the score), `implied` (a side
stood for by an incident term), `third_party` (third countries in the headline), `clauses` (a
headline joining two stories), `roundup` (the marker that made the summary not count) and
`ignored` (US states named without acting; a single off-topic word in the summary).
`Relevance.version` is the rules version.

This module loads and compiles the rules and is the public face of relevance; the term matcher
is in relevance_matcher.py, the scoring of one article in relevance_scoring.py. `score_with_body`
(here, not in fulltext.py, so rescoring needs no page fetcher) reads a fetched body's opening.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .config import PROJECT_ROOT, resolve_path
from .errors import RulesError
from .relevance_matcher import DASHES, TermMatcher, tokenize
from .relevance_scoring import BODY, LEAD, TITLE, Relevance, score_article, split_lead

__all__ = [
    "BODY",
    "LEAD",
    "SUMMARY",
    "TITLE",
    "Relevance",
    "Rules",
    "build_rules",
    "load_rules",
    "score_article",
    "score_with_body",
    "split_lead",
    "text_for_scoring",
    "tokenize",
]

SUMMARY = "summary"


@dataclass
class Rules:
    version: str
    threshold: float
    weights: dict
    topic_labels: dict
    side_matcher: TermMatcher
    context_matcher: TermMatcher
    topic_names: tuple[str, ...] = field(default_factory=tuple)
    # topics whose words are common in any relations story ("talks", "military"): tagged only
    # with a term in the headline or two different terms in the summary
    strict_topics: frozenset = frozenset()
    # per topic, terms that tag it only from the headline or beside another term of the topic
    # ("military" in "flew near US military sites" is where, not what)
    weak_topic_terms: dict = field(default_factory=dict)
    # topics whose terms connect the two sides when both are named only as countries (not
    # russia_third_parties: a third country connects neither to the other)
    connecting_topics: frozenset = frozenset()
    # verbs of statement ("warns", "urges", "says"): "China warns US" connects the two sides
    statement_matcher: TermMatcher | None = None
    # measures that are things said ("warn*", "urge*"): they connect two country-only sides only
    # as a side's statement
    spoken_measures: frozenset = frozenset()
    # the summary's lead: its first sentences, ending at the first sentence end after
    # lead_min_chars, at most lead_max_chars; what follows is the body (passing mentions)
    lead_min_chars: int = 150
    lead_max_chars: int = 350

    def score(self, title: str, summary: str = "") -> Relevance:
        return score_article(self, title, summary)


def _as_list(value, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise RulesError(f"{where} must be a list of terms")
    return [str(v) for v in value]


def load_rules(topics_path: str | Path | None = None, actors_path: str | Path | None = None) -> Rules:
    # resolved like every configured path, so a relative NEWSWATCH_TOPICS works from any folder
    topics_path = resolve_path(topics_path or PROJECT_ROOT / "config" / "topics.yaml")
    actors_path = Path(actors_path or topics_path.with_name("actors.yaml"))
    return _load_rules_cached(str(topics_path), str(actors_path), _mtime(topics_path), _mtime(actors_path))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=8)
def _load_rules_cached(topics_path: str, actors_path: str, _m1: float, _m2: float) -> Rules:
    try:
        topics_text = Path(topics_path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"cannot read relevance rules {topics_path}: {exc}") from None
    actors_text = Path(actors_path).read_text(encoding="utf-8") if Path(actors_path).exists() else ""
    try:
        doc = yaml.safe_load(topics_text) or {}
        actors = yaml.safe_load(actors_text) or {}
    except yaml.YAMLError as exc:
        raise RulesError(f"relevance rules are not valid YAML: {exc}") from None
    return build_rules(doc, actors, fingerprint=topics_text + "\0" + actors_text)


# Weights added after version 1; a rules file without them scores as version 1 did, except
# that the summary's body counts like its lead (body_weight defaults to summary_weight).
_OPTIONAL_WEIGHTS = ("body_weight", "implied", "no_interaction_cap")


# the weights topics.yaml must set (the optional ones are _OPTIONAL_WEIGHTS)
REQUIRED_WEIGHTS = (
    "bilateral",
    "both_sides",
    "both_in_title",
    "weak_sides",
    "topic",
    "topic_cap",
    "measure",
    "negative",
    "negative_cap",
    "negative_with_measure",
    "summary_weight",
)


def build_rules(doc: dict, actors: dict, fingerprint: str = "") -> Rules:
    digest = hashlib.sha1(fingerprint.encode("utf-8")).hexdigest()[:8]
    version = f"{doc.get('version', 0)}-{digest}"
    weights = dict(doc.get("weights") or {})
    for key in REQUIRED_WEIGHTS:
        if key not in weights:
            raise RulesError(f"topics.yaml: weights.{key} is missing")
    weights.setdefault("body_weight", weights["summary_weight"])
    weights.setdefault("implied", 1.0)
    weights.setdefault("no_interaction_cap", 1.0)  # absent: no cap, as before version 3
    for key, value in weights.items():
        if not isinstance(value, (int, float)):
            raise RulesError(f"topics.yaml: weights.{key} must be a number")

    side_terms: list[tuple[str, str]] = []
    sides = doc.get("sides") or {}
    descriptors = _as_list(doc.get("descriptors"), "descriptors")
    for side in ("us", "china"):
        spec = sides.get(side) or {}
        for strength in ("country", "strong", "weak", "state"):
            for term in _as_list(spec.get(strength), f"sides.{side}.{strength}"):
                side_terms.append((f"{side}:{strength}", term))
    for side in ("us", "china"):
        for i, person in enumerate(actors.get(side) or []):
            if not isinstance(person, dict) or not person.get("name"):
                raise RulesError(f"actors.yaml: {side}[{i}] needs a name")
            for term in [
                person["name"],
                *_as_list(person.get("aliases"), f"actors {person['name']} aliases"),
                *_as_list(person.get("zh"), f"actors {person['name']} zh"),
            ]:
                side_terms.append((f"{side}:strong", term))
            # a bare surname that is also a place or a common name ("Austin", "Sullivan") means
            # the official in a headline; a summary names the official in full
            for term in _as_list(person.get("headline_aliases"), f"actors {person['name']} headline_aliases"):
                side_terms.append((f"{side}:headline", term))

    # Bilateral and incident terms are matched with the sides (an article with no side term
    # and none of these is not scored further); one that contains a side's term ("US-China",
    # "Chinese balloon") counts for that side too.
    plain_sides = TermMatcher(side_terms)
    for kind in ("bilateral", "incidents"):
        for term in _as_list(doc.get(kind), kind):
            side_terms.append((kind.rstrip("s") if kind == "incidents" else kind, term))
            for label, _ in plain_sides.find(term.translate(DASHES)):
                side_terms.append((label, term))

    context_terms: list[tuple[str, str]] = []
    for term in _as_list(doc.get("third_parties"), "third_parties"):
        context_terms.append(("third_party", term))
    for term in _as_list(doc.get("not_third_parties"), "not_third_parties"):
        context_terms.append(("place", term))  # hides "Indian" in "Indian Ocean"; counts for nothing
    roundup = doc.get("roundup") or {}
    if not isinstance(roundup, dict):
        raise RulesError("topics.yaml: roundup must have `title` and `summary` lists")
    for where in ("title", "summary"):
        for term in _as_list(roundup.get(where), f"roundup.{where}"):
            context_terms.append((f"roundup:{where}", term))
    for term in _as_list(doc.get("measures"), "measures"):
        context_terms.append(("measure", term))
    spoken = _as_list(doc.get("spoken_measures"), "spoken_measures")
    for term in spoken:
        context_terms.append(("measure", term))
    topic_labels = {}
    strict = set()
    weak_topic_terms = {}
    connecting = set()
    for name, spec in (doc.get("topics") or {}).items():
        topic_labels[name] = (spec or {}).get("label", name)
        if (spec or {}).get("strict"):
            strict.add(name)
        if (spec or {}).get("connects", True):
            connecting.add(name)
        for term in _as_list((spec or {}).get("terms"), f"topics.{name}.terms"):
            context_terms.append((f"topic:{name}", term))
        weak = _as_list((spec or {}).get("weak_terms"), f"topics.{name}.weak_terms")
        for term in weak:
            context_terms.append((f"topic:{name}", term))
        if weak:
            weak_topic_terms[name] = frozenset(t.strip().translate(DASHES) for t in weak)
    for name, terms in (doc.get("negative") or {}).items():
        for term in _as_list(terms, f"negative.{name}"):
            context_terms.append((f"negative:{name}", term))

    # Masks are side "terms" that match longer phrases ("Washington Post") and count for nothing.
    for term in _as_list(doc.get("mask"), "mask"):
        side_terms.append(("mask", term))
    lead = doc.get("lead") or {}
    try:
        lead_min, lead_max = int(lead.get("min_chars", 150)), int(lead.get("max_chars", 350))
    except (TypeError, ValueError, AttributeError):
        raise RulesError("topics.yaml: lead.min_chars and lead.max_chars must be numbers") from None
    if not 0 < lead_min <= lead_max:
        raise RulesError("topics.yaml: lead needs 0 < min_chars <= max_chars")
    return Rules(
        version=version,
        threshold=float(doc.get("threshold", 0.5)),
        weights={k: float(v) for k, v in weights.items()},
        topic_labels=topic_labels,
        side_matcher=TermMatcher(side_terms, descriptors, _as_list(doc.get("former"), "former")),
        context_matcher=TermMatcher(context_terms),
        topic_names=tuple(topic_labels),
        strict_topics=frozenset(strict),
        weak_topic_terms=weak_topic_terms,
        connecting_topics=frozenset(connecting),
        spoken_measures=frozenset(spoken),
        statement_matcher=TermMatcher(
            [("statement", t) for t in _as_list(doc.get("statements"), "statements")]
            + [("relation", t) for t in _as_list(doc.get("relations"), "relations")]
        ),
        lead_min_chars=lead_min,
        lead_max_chars=lead_max,
    )


# Relevance reads the headline and the feed's summary; when the summary is a teaser (or absent,
# as for a Google News pointer) and the article's body was fetched, the body's opening stands in
# for it: judged on the article, not on a teaser. Only the opening: a side named once deep in the
# body is a passing mention, as it is deep in a long summary.
TEASER_CHARS = 300
BODY_LEAD_CHARS = 700


def text_for_scoring(summary: str, body: str | None) -> str:
    """What relevance reads besides the headline."""
    summary = summary or ""
    if not body or len(summary) >= TEASER_CHARS:
        return summary
    lead = body[:BODY_LEAD_CHARS]
    if len(body) > BODY_LEAD_CHARS:
        cut = max(lead.rfind(". "), lead.rfind("。"))
        lead = lead[: cut + 1] if cut > BODY_LEAD_CHARS // 2 else lead.rsplit(" ", 1)[0]
    return f"{summary} {lead}".strip() if summary and not body.startswith(summary[:80]) else lead


PAGE = "page"  # evidence zone: found only in the fetched page's body, not in the feed's text


def score_with_body(rules: Rules, title: str, summary: str, body: str | None) -> Relevance:
    """The article's relevance, read from its headline, its summary and, where the summary is a
    teaser and the page was fetched, the opening of its body; the evidence says which text was
    read and which terms fired only because of the page (`from_page`, `where` = "page")."""
    summary = summary or ""
    text = text_for_scoring(summary, body)
    result = rules.score(title, text)
    if text == summary:
        result.terms["text"] = "headline and summary"
        return result
    result.terms["text"] = "headline, summary and the body's opening"
    # The matcher sees one joined text; scoring the feed's own text again tells the two apart.
    # Only articles with a fetched body behind a teaser pay for it.
    feed = rules.score(title, summary).terms
    result.terms["from_page"] = sorted(_fired_terms(result.terms) - _fired_terms(feed))
    where, feed_where = result.terms["where"], feed["where"]
    for side, zone in where.items():
        if zone is not None and feed_where.get(side) is None:
            where[side] = PAGE
    return result


def _fired_terms(terms: dict) -> set[str]:
    fired = {t for key in ("us", "china", "bilateral", "measures") for t in terms.get(key) or ()}
    return fired | {t for hits in (terms.get("topics") or {}).values() for t in hits}
