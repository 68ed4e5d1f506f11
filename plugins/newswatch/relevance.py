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
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .config import PROJECT_ROOT, resolve_path
from .errors import RulesError

TITLE, LEAD, BODY = "title", "lead", "body"   # where in an article a term was found
SUMMARY = "summary"
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_ACRONYM_RE = re.compile(r"^[A-Z][A-Z0-9.&-]*$")
_SHORT_NAME_RE = re.compile(r"^[A-Z][a-z]{1,2}$")
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u2212": "-",
                         "\u2019": "'", "\u2018": "'"})


@dataclass(frozen=True)
class Relevance:
    score: float
    is_relevant: bool
    topics: tuple[str, ...]
    terms: dict  # evidence: what fired, stored as relevance_terms
    version: str


_TOKEN_RE = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+|\S")


def tokenize(text: str) -> list[str]:
    """Words (Latin letters and digits) and every other visible character as its own token,
    so punctuation must match exactly ("U.S." vs "US") and each CJK character is a token."""
    return _TOKEN_RE.findall(text)


@dataclass(frozen=True)
class _Term:
    text: str
    tokens: tuple[str, ...]        # lower-cased unless case_sensitive
    case_sensitive: bool
    prefix: bool                   # last token matches as a prefix ("tariff*")
    labels: tuple[str, ...]


class _Matcher:
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
            key = term.strip().translate(_DASHES)
            if key:
                labels_by_term.setdefault(key, [])
                if label not in labels_by_term[key]:
                    labels_by_term[key].append(label)
        self._by_first: dict[str, list[_Term]] = {}
        self._prefix_single: dict[str, list[_Term]] = {}
        for text, labels in labels_by_term.items():
            prefix = text.endswith("*")
            body = text[:-1] if prefix else text
            tokens = tokenize(body)
            if not tokens:
                continue
            # acronyms ("US", "PLA") and short capitalised names ("Xi", "Qin") match only as
            # written: "us", "pla" and a football team's "starting XI" are not sides
            case_sensitive = ((bool(_ACRONYM_RE.match(body)) and len(body.replace(".", "")) <= 6)
                              or bool(_SHORT_NAME_RE.match(body)))
            keyed = tuple(tokens if case_sensitive else (t.lower() for t in tokens))
            term = _Term(text, keyed, case_sensitive, prefix, tuple(labels))
            if prefix and len(keyed) == 1:
                self._prefix_single.setdefault(keyed[0][:3].lower(), []).append(term)
            else:
                self._by_first.setdefault(keyed[0].lower(), []).append(term)
        for bucket in (*self._by_first.values(), *self._prefix_single.values()):
            bucket.sort(key=lambda t: (-len(t.tokens), -len(t.tokens[-1])))

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

    def find_tokens(self, tokens: list[str], lowered: list[str] | None = None,
                    spans: bool = False) -> list[tuple]:
        """(label, term) for every match; with spans, (label, term, first token, end token)."""
        if lowered is None:
            lowered = [t.lower() for t in tokens]
        # Most tokens cannot start any term: find the few positions that can with set operations
        # (C speed) and only walk those; the result is the same as trying every position.
        by_first, prefix_single = self._by_first, self._prefix_single
        unique = set(lowered)
        starts = unique & by_first.keys()
        if prefix_single:
            starts.update(t for t in unique - starts if t[:3] in prefix_single and len(t) >= 3)
        if not starts:
            return []
        found: list[tuple[str, str]] = []
        free_from = 0   # tokens before this were consumed by the previous match
        for i in [i for i, t in enumerate(lowered) if t in starts]:
            if i < free_from:
                continue
            best = None
            for term in by_first.get(lowered[i], ()):
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
            if (self._descriptors and free_from + 1 < len(tokens) and tokens[free_from] == "-"
                    and lowered[free_from + 1] in self._descriptors):
                text = f"{text}-{tokens[free_from + 1]}"
                labels = tuple(dict.fromkeys(_as_country(label) for label in labels))
                free_from += 2
            elif self._former and not self._former.isdisjoint(lowered[max(0, i - _FORMER_WINDOW):i]):
                labels = tuple(dict.fromkeys(_as_country(label) for label in labels))
            if spans:
                found.extend((label, text, i, free_from) for label in labels)
            else:
                found.extend((label, text) for label in labels)
        return found

    def find(self, text: str) -> list[tuple[str, str]]:
        """(label, term) for every match in `text`."""
        return self.find_tokens(tokenize(text)) if text else []


_FORMER_WINDOW = 4   # "former Secretary of State Pompeo": "former" up to 4 tokens before the name


def _as_country(label: str) -> str:
    side, _, kind = label.partition(":")
    return f"{side}:country" if side in ("us", "china") and kind in ("strong", "country", "headline") else label


@dataclass
class Rules:
    version: str
    threshold: float
    weights: dict
    topic_labels: dict
    side_matcher: _Matcher
    context_matcher: _Matcher
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
    statement_matcher: _Matcher | None = None
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
    return _load_rules_cached(str(topics_path), str(actors_path),
                              _mtime(topics_path), _mtime(actors_path))


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


def build_rules(doc: dict, actors: dict, fingerprint: str = "") -> Rules:
    digest = hashlib.sha1(fingerprint.encode("utf-8")).hexdigest()[:8]
    version = f"{doc.get('version', 0)}-{digest}"
    weights = dict(doc.get("weights") or {})
    for key in ("bilateral", "both_sides", "both_in_title", "weak_sides", "topic", "topic_cap", "measure",
                "negative", "negative_cap", "negative_with_measure", "summary_weight"):
        if key not in weights:
            raise RulesError(f"topics.yaml: weights.{key} is missing")
    weights.setdefault("body_weight", weights["summary_weight"])
    weights.setdefault("implied", 1.0)
    weights.setdefault("no_interaction_cap", 1.0)   # absent: no cap, as before version 3
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
            for term in [person["name"], *_as_list(person.get("aliases"), f"actors {person['name']} aliases"),
                         *_as_list(person.get("zh"), f"actors {person['name']} zh")]:
                side_terms.append((f"{side}:strong", term))
            # a bare surname that is also a place or a common name ("Austin", "Sullivan") means
            # the official in a headline; a summary names the official in full
            for term in _as_list(person.get("headline_aliases"), f"actors {person['name']} headline_aliases"):
                side_terms.append((f"{side}:headline", term))

    # Bilateral and incident terms are matched with the sides (an article with no side term
    # and none of these is not scored further); one that contains a side's term ("US-China",
    # "Chinese balloon") counts for that side too.
    plain_sides = _Matcher(side_terms)
    for kind in ("bilateral", "incidents"):
        for term in _as_list(doc.get(kind), kind):
            side_terms.append((kind.rstrip("s") if kind == "incidents" else kind, term))
            for label, _ in plain_sides.find(term.translate(_DASHES)):
                side_terms.append((label, term))

    context_terms: list[tuple[str, str]] = []
    for term in _as_list(doc.get("third_parties"), "third_parties"):
        context_terms.append(("third_party", term))
    for term in _as_list(doc.get("not_third_parties"), "not_third_parties"):
        context_terms.append(("place", term))   # hides "Indian" in "Indian Ocean"; counts for nothing
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
            weak_topic_terms[name] = frozenset(t.strip().translate(_DASHES) for t in weak)
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
        side_matcher=_Matcher(side_terms, descriptors, _as_list(doc.get("former"), "former")),
        context_matcher=_Matcher(context_terms),
        topic_names=tuple(topic_labels),
        strict_topics=frozenset(strict),
        weak_topic_terms=weak_topic_terms,
        connecting_topics=frozenset(connecting),
        spoken_measures=frozenset(spoken),
        statement_matcher=_Matcher([("statement", t) for t in _as_list(doc.get("statements"), "statements")]
                                   + [("relation", t) for t in _as_list(doc.get("relations"), "relations")]),
        lead_min_chars=lead_min,
        lead_max_chars=lead_max,
    )


def _prepare(text: str) -> str:
    if not text or text.isascii():   # NFKC and the dash/quote table change no ASCII character
        return text or ""
    return unicodedata.normalize("NFKC", text).translate(_DASHES)


# A sentence ends at . ! ? … or 。 (closing quotes/brackets allowed) followed by a space and
# what can start a sentence; CJK sentence ends need no space.
_SENTENCE_END_RE = re.compile(r"(?:[.!?…][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9\u00C0-\u024F])|[。！？]\s*)")

_ZONE_RANK = {TITLE: 0, LEAD: 1, BODY: 2}


def split_lead(summary: str, min_chars: int = 150, max_chars: int = 350) -> tuple[str, str]:
    """(lead, body) of a summary: a summary of up to max_chars is all lead; a longer one's lead
    ends at the first sentence end after min_chars (or at a word break near max_chars)."""
    if len(summary) <= max_chars:
        return summary, ""
    match = _SENTENCE_END_RE.search(summary, min_chars, max_chars + 1)
    if match:
        cut = match.end()
    else:
        cut = summary.rfind(" ", min_chars, max_chars)
        if cut < 0:
            cut = max_chars
    return summary[:cut], summary[cut:]


def _tags_topic(rules: Rules, name: str, hits: dict[str, str]) -> bool:
    """A topic with a term in the headline is tagged; from the summary alone a strict topic needs
    two different terms, any other topic one term that is not one of its weak terms."""
    if TITLE in hits.values() or len(hits) >= 2:
        return True
    return name not in rules.strict_topics and not set(hits) <= rules.weak_topic_terms.get(name, frozenset())


# Where a headline joins two stories: "A as B" (not "as a/an/soon/well..."), "A; B", "A while B".
# A headline of several sentences ("Lasers in orbit! China's plans? Trump's Space Force? No, the
# French") is split at its sentence ends too.
_CLAUSE_SPLIT_RE = re.compile(
    r"\s+as\s+(?!(?:a|an|soon|well|much|many|long|part|if|though|of|to|far|usual|expected|possible)\b)"
    r"|\s*;\s+|\s+while\s+|(?<=[?!])[\"'”’]?\s+")


def _separate_clauses(rules: Rules, title: str) -> list[str] | None:
    """The headline's clauses when one holds only US terms and another only China terms (and
    no clause holds both), else None."""
    clauses = [c for c in _CLAUSE_SPLIT_RE.split(_prepare(title)) if c.strip()]
    if len(clauses) < 2:
        return None
    sides_per_clause = []
    for clause in clauses:
        labels = {label.split(":", 1)[0] for label, _ in rules.side_matcher.find(clause)}
        sides_per_clause.append(labels & {"us", "china"})
    if any(len(sides) == 2 for sides in sides_per_clause):
        return None
    if {"us"} in sides_per_clause and {"china"} in sides_per_clause:
        return clauses
    return None


def _connections(rules: Rules, title: str, relations: bool = True) -> list[str]:
    """What in the headline connects two sides named as countries: a side's name directly
    followed by a verb of statement ("China warns US", "US urges China", "China says it is ready
    to work with US"), or (with `relations`) a word for a relation between the two
    ("competition with", "tensions")."""
    if rules.statement_matcher is None:
        return []
    tokens = tokenize(_prepare(title))
    lowered = [t.lower() for t in tokens]
    verbs, found = {}, []
    for label, term, start, _ in rules.statement_matcher.find_tokens(tokens, lowered, spans=True):
        if label == "relation":
            if relations:
                found.append(f"relation:{term}")
        else:
            verbs[start] = term
    if verbs:
        for label, term, _, end in rules.side_matcher.find_tokens(tokens, lowered, spans=True):
            side, _, kind = label.partition(":")
            # a country or an actor speaks; "Hong Kong protests" is no statement
            if side in ("us", "china") and kind in ("country", "strong", "headline") and end in verbs:
                found.append(f"statement:{term} {verbs[end]}")
    return sorted(set(found))


def _third_party_first(rules: Rules, title: str) -> bool:
    """Whether the headline names a third country before either side: its subject."""
    tokens = tokenize(_prepare(title))
    lowered = [t.lower() for t in tokens]
    sides = [start for label, _, start, _ in rules.side_matcher.find_tokens(tokens, lowered, spans=True)
             if label.split(":", 1)[0] in ("us", "china")]
    thirds = [start for label, _, start, _ in rules.context_matcher.find_tokens(tokens, lowered, spans=True)
              if label == "third_party"]
    return bool(thirds) and (not sides or min(thirds) < min(sides))


def _no_side(rules: Rules) -> Relevance:
    terms = {"us": [], "china": [], "bilateral": [], "measures": [], "topics": {}, "negative": {},
             "rules": ["no_side"], "where": {"us": None, "china": None, "bilateral": None},
             "passing": [], "kind": {"us": None, "china": None}}
    return Relevance(0.0, False, (), terms, rules.version)


def score_article(rules: Rules, title: str, summary: str = "") -> Relevance:
    """Score one article from the terms found in its title, its summary's lead and its body.

    Where a term is found decides how much it counts: the title fully, the lead
    `summary_weight`, the body (past the lead of a long summary) `body_weight`. The two sides
    must both be central (title or lead) for the article to be relevant; a side named only in
    the body is a passing mention. In a headline about a third country (Russia, Japan, ...) and
    one side, the other side must be in the headline too, or the summary must say "US-China":
    otherwise the other side is taken as mentioned in passing. A roundup (newsletter, live blog,
    podcast) is judged on its headline alone. An incident named in the text ("spy balloon")
    stands for the side the text does not name. Two sides named only as countries ("US",
    "Chinese") with nothing connecting them are capped below the threshold (`no_interaction`)."""
    w = rules.weights
    lead_text, body_text = split_lead(_prepare(summary), rules.lead_min_chars, rules.lead_max_chars)
    zone_weight = {TITLE: 1.0, LEAD: w["summary_weight"], BODY: w["body_weight"]}
    zones = [(zone, tokens, [t.lower() for t in tokens])
             for zone, tokens in ((TITLE, tokenize(_prepare(title))), (LEAD, tokenize(lead_text)),
                                  (BODY, tokenize(body_text))) if tokens]
    found = {zone: rules.side_matcher.find_tokens(tokens, lowered) for zone, tokens, lowered in zones}
    if not any(label != "mask" for hits in found.values() for label, _ in hits):
        return _no_side(rules)   # most articles: neither side, nothing more to look at
    for zone, tokens, lowered in zones:
        found[zone] += rules.context_matcher.find_tokens(tokens, lowered)
    # A roundup (newsletter, live blog, podcast; marked in its headline, or a newsletter's
    # "sign up" in its summary) is about many other things: it is judged on its headline alone.
    roundup = sorted({term for zone, hits in found.items() for label, term in hits
                      if label == ("roundup:title" if zone == TITLE else "roundup:summary")})
    # evidence[label] = {term: best zone it was found in}
    evidence: dict[str, dict[str, str]] = {}
    for zone in ((TITLE,) if roundup else (TITLE, LEAD, BODY)):
        for label, term in found.get(zone, ()):
            if label.startswith("roundup:") or (label == "third_party" and zone != TITLE):
                continue
            if label.endswith(":headline"):
                # a surname that is also a place or a common name ("Austin"): only in a headline,
                # and like a country's name it needs an actor or something connecting the sides
                # ("Chinese EV maker picks Austin" is not "Austin warns China")
                if zone != TITLE:
                    continue
                label = label.replace(":headline", ":country")
            evidence.setdefault(label, {}).setdefault(term, zone)

    def weight(label: str) -> float:
        return max((zone_weight[z] for z in evidence.get(label, {}).values()), default=0.0)

    def best_zone(label: str) -> str | None:
        return min(evidence.get(label, {}).values(), key=_ZONE_RANK.__getitem__, default=None)

    measure_central = any(z != BODY for z in evidence.get("measure", {}).values())

    def side_strength(side: str, zones: tuple[str, ...]) -> tuple[float, str | None]:
        """Best strength of a side's terms in these zones, and the zone it came from."""
        best, where = 0.0, None
        for kind, factor in (("strong", 1.0), ("country", 1.0), ("weak", 0.5), ("state", 0.5)):
            if kind == "state" and not measure_central:
                continue   # a US state counts only when it acts: a measure in headline or lead
            for zone in evidence.get(f"{side}:{kind}", {}).values():
                if zone in zones and zone_weight[zone] * factor > best:
                    best, where = zone_weight[zone] * factor, zone
        return best, where

    central = (TITLE, LEAD)
    us, us_where = side_strength("us", central)
    cn, cn_where = side_strength("china", central)
    us_body, _ = side_strength("us", (BODY,))
    cn_body, _ = side_strength("china", (BODY,))
    bilateral_zone = best_zone("bilateral")
    bilateral = weight("bilateral")

    # An incident named in the headline ("spy balloon"), or in the lead of an item whose
    # headline names a side, stands for the side not named.
    implied: dict[str, list[str]] = {}
    incident_zone = best_zone("incident")
    if incident_zone == TITLE or (incident_zone == LEAD and TITLE in (us_where, cn_where)):
        value = zone_weight[incident_zone] * w["implied"]
        if us < value:
            implied["us"] = sorted(evidence["incident"])
            us, us_where = value, incident_zone
        if cn < value:
            implied["china"] = sorted(evidence["incident"])
            cn, cn_where = value, incident_zone

    # A headline about a third country and one side: the other side, named only in the summary,
    # is context for a third-country story (China–Russia, US–South Korea), not a US–China story
    # -- unless the summary says "US-China" in so many words.
    passing: list[str] = []
    third = sorted(evidence.get("third_party", {}))
    if third and bilateral_zone not in central and incident_zone not in central:
        if cn_where == TITLE and us_where == LEAD:
            passing.append("us")
            us, us_body = 0.0, max(us_body, us)
        elif us_where == TITLE and cn_where == LEAD:
            passing.append("china")
            cn, cn_body = 0.0, max(cn_body, cn)
        elif us_where == LEAD and cn_where == LEAD:
            # "Germany's economic model is broken": a headline about a third country naming
            # neither side; the two in its summary are the backdrop
            passing += ["us", "china"]
            us, us_body, cn, cn_body = 0.0, max(us_body, us), 0.0, max(cn_body, cn)
    # A headline about a third country that joins two stories ("US speeds tanks to Ukraine as
    # Putin meets Xi"): when each side is named only in its own clause, the headline does not
    # put them in one story; the lead must (both sides there), or the item is not relevant.
    separate = None
    if third and us_where == TITLE and cn_where == TITLE and not implied and bilateral_zone is None:
        separate = _separate_clauses(rules, title)
        if separate:
            us, _ = side_strength("us", (LEAD,))
            cn, _ = side_strength("china", (LEAD,))
            if not (us and cn):
                us = cn = 0.0
    third_party_framing = bool(passing)

    rules_fired = []
    if bilateral_zone in central:
        base = w["bilateral"] * (1.0 if bilateral >= 1 else 0.85)
        rules_fired.append("bilateral")
    elif us >= w["summary_weight"] and cn >= w["summary_weight"]:
        if min(us, cn) >= 1:
            base = w["both_sides"] + w["both_in_title"]
            rules_fired.append("both_sides_in_title")
        else:
            base = w["both_sides"] * 0.9
            rules_fired.append("both_sides")
    elif us > 0 and cn > 0:
        base = w["weak_sides"]
        rules_fired.append("weak_sides")
    else:
        base = 0.0
        # a side (or "US-China") named only past the lead of a long summary: a passing mention
        for side, value, body in (("us", us, us_body), ("china", cn, cn_body)):
            if not value and (body or bilateral_zone == BODY) and side not in passing:
                passing.append(side)
        if separate:
            rules_fired.append("separate_stories")
        elif passing:
            rules_fired.append("third_party_framing" if third_party_framing else "passing_mention")
        else:
            rules_fired.append("one_side_only" if (us or cn) else "no_side")
    if implied:
        rules_fired.append("implied_side")
    if roundup:
        rules_fired.append("roundup_headline_only")

    topic_hits = {
        name: evidence[f"topic:{name}"] for name in rules.topic_names if f"topic:{name}" in evidence
    }
    topic_bonus = min(
        w["topic_cap"], sum(w["topic"] * weight(f"topic:{name}") for name in topic_hits)
    )
    measure = weight("measure")
    measure_bonus = w["measure"] * measure
    # An off-topic context counts from the headline, or from two different terms in the summary:
    # one market word in a summary ("...energy and revenue, six charts show where the US leads
    # China in AI") is not a market story.
    negatives, faint = {}, {}
    for key, hits in evidence.items():
        if key.startswith("negative:"):
            (negatives if TITLE in hits.values() or len(hits) >= 2 else faint)[key.split(":", 1)[1]] = hits
    penalty_each = w["negative_with_measure"] if measure >= 1 else w["negative"]
    penalty = min(w["negative_cap"], sum(penalty_each * weight(f"negative:{name}") for name in negatives))
    if negatives:
        rules_fired.append("off_topic_context")

    score = base + topic_bonus + measure_bonus - penalty if base else 0.0

    # What stands for each side in the headline and lead: an actor (an official, an
    # institution, a capital standing for its government: "Blinken", "the Pentagon", "Beijing"),
    # only the country's name or its people ("US", "China", "Chinese", "Americans"), a weak term
    # (Taiwan, lawmakers, a US state), or an incident.
    # A headline naming a third country is judged on the headline: an actor in the lead may
    # be acting with the third country ("Beijing is collaborating with Russia").
    kind_zones = (TITLE,) if third else central
    kinds = {}
    for side in ("us", "china"):
        if side in implied:
            kinds[side] = "incident"
        elif any(z in kind_zones for z in evidence.get(f"{side}:strong", {}).values()):
            kinds[side] = "actor"
        elif any(z in kind_zones for z in evidence.get(f"{side}:country", {}).values()):
            kinds[side] = "country"
        elif any(z in kind_zones for z in evidence.get(f"{side}:weak", {}).values()) or (
                measure_central and any(z in kind_zones for z in evidence.get(f"{side}:state", {}).values())):
            kinds[side] = "weak"
        else:
            kinds[side] = None
    # Both sides named only as countries, with no actor, bilateral term or incident: "US has
    # never seen a threat like China", "Thousands of Americans weigh in on China", "India as a
    # third way between the US and China". Something must connect the two: a measure or a
    # statement of one about the other ("China warns US"), or a term of a topic between them
    # in the headline or lead, or a word for their relation in the headline -- topic and relation
    # not when the headline leads with a third country, its subject, whose topic or relation it
    # may be ("Can India be an AI alternative to the US and China?"; but "US and China make
    # progress on soybeans in Singapore").
    connection: list[str] = []
    countries_only = (base > 0 and kinds["us"] == "country" and kinds["china"] == "country"
                      and bilateral_zone not in central and incident_zone not in central)
    if countries_only:
        acts = sorted(term for term, zone in evidence.get("measure", {}).items()
                      if zone in central and term not in rules.spoken_measures)
        connection += [f"measure:{term}" for term in acts]
        third_first = bool(third) and _third_party_first(rules, title)
        connection += _connections(rules, title, relations=not third_first)
        if not third_first:
            connection += sorted(f"topic:{name}" for name in topic_hits if name in rules.connecting_topics
                                 and any(z in central for z in topic_hits[name].values()))
        if not connection:
            rules_fired.append("no_interaction")
            score = min(score, w["no_interaction_cap"])
    score = round(max(0.0, min(1.0, score)), 3)
    relevant = base > 0 and score >= rules.threshold
    topics: tuple[str, ...] = ()
    if relevant:
        topics = tuple(name for name in rules.topic_names
                       if name in topic_hits and _tags_topic(rules, name, topic_hits[name])) or ("diplomacy",)
    counted_states = measure_central and evidence.get("us:state")
    terms = {
        "us": sorted(set(evidence.get("us:strong", {})) | set(evidence.get("us:country", {}))
                     | set(evidence.get("us:weak", {}))
                     | (set(evidence.get("us:state", {})) if counted_states else set())),
        "china": sorted(set(evidence.get("china:strong", {})) | set(evidence.get("china:country", {}))
                        | set(evidence.get("china:weak", {}))),
        "bilateral": sorted(evidence.get("bilateral", {})),
        "measures": sorted(evidence.get("measure", {})),
        "topics": {name: sorted(terms) for name, terms in topic_hits.items()},
        "negative": {name: sorted(terms) for name, terms in negatives.items()},
        "rules": rules_fired,
        # where each side was found: title, lead (the summary's first sentences), body (past
        # the lead of a long summary), or null; "passing" lists sides judged mentioned in passing
        "where": {"us": us_where or (BODY if us_body else None),
                  "china": cn_where or (BODY if cn_body else None),
                  "bilateral": bilateral_zone},
        "passing": passing,
        # what stands for each side centrally: actor, country, weak, incident or null
        "kind": kinds,
    }
    if countries_only:
        terms["connection"] = connection   # what connects two sides named only as countries
    if implied:
        terms["implied"] = implied
    if third:
        terms["third_party"] = third
    if separate:
        terms["clauses"] = separate
    if roundup:
        terms["roundup"] = sorted(set(roundup))
    if evidence.get("us:state") and not counted_states:
        terms.setdefault("ignored", {})["us_states"] = sorted(evidence["us:state"])
    if faint:
        terms.setdefault("ignored", {})["negative"] = {name: sorted(hits) for name, hits in faint.items()}
    return Relevance(score, relevant, topics, terms, rules.version)
