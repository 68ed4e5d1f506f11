"""Topic scoring: is an article US–China relations coverage, about which topics, and why.

Rules and term lists live in config/topics.yaml and config/actors.yaml so analysts can edit
them; this module compiles them into two term matchers (one for topics,
measures and off-topic contexts, one for the two sides and the phrases that mask them) and scores each
article from what fired. Pure functions: no I/O after the rules are loaded.
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

TITLE, SUMMARY = "title", "summary"
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_ACRONYM_RE = re.compile(r"^[A-Z][A-Z0-9.&-]*$")
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

    def __init__(self, labelled_terms: list[tuple[str, str]]):
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
            case_sensitive = bool(_ACRONYM_RE.match(body)) and len(body.replace(".", "")) <= 6
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

    def find_tokens(self, tokens: list[str], lowered: list[str] | None = None) -> list[tuple[str, str]]:
        if lowered is None:
            lowered = [t.lower() for t in tokens]
        # Most tokens cannot start any term: find the few positions that can with set operations
        # (C speed) and only walk those; the result is the same as trying every position.
        by_first, prefix_single = self._by_first, self._prefix_single
        starts = {t for t in set(lowered) if t in by_first or (len(t) >= 3 and t[:3] in prefix_single)}
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
            found.extend((label, best.text) for label in best.labels)
            free_from = i + len(best.tokens)
        return found

    def find(self, text: str) -> list[tuple[str, str]]:
        """(label, term) for every match in `text`."""
        return self.find_tokens(tokenize(text)) if text else []


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


def build_rules(doc: dict, actors: dict, fingerprint: str = "") -> Rules:
    digest = hashlib.sha1(fingerprint.encode("utf-8")).hexdigest()[:8]
    version = f"{doc.get('version', 0)}-{digest}"
    weights = dict(doc.get("weights") or {})
    for key in ("bilateral", "both_sides", "both_in_title", "weak_sides", "topic", "topic_cap", "measure",
                "negative", "negative_cap", "negative_with_measure", "summary_weight"):
        if key not in weights:
            raise RulesError(f"topics.yaml: weights.{key} is missing")

    side_terms: list[tuple[str, str]] = []
    sides = doc.get("sides") or {}
    for side in ("us", "china"):
        spec = sides.get(side) or {}
        for strength in ("strong", "weak"):
            for term in _as_list(spec.get(strength), f"sides.{side}.{strength}"):
                side_terms.append((f"{side}:{strength}", term))
    for side in ("us", "china"):
        for i, person in enumerate(actors.get(side) or []):
            if not isinstance(person, dict) or not person.get("name"):
                raise RulesError(f"actors.yaml: {side}[{i}] needs a name")
            for term in [person["name"], *_as_list(person.get("aliases"), f"actors {person['name']} aliases"),
                         *_as_list(person.get("zh"), f"actors {person['name']} zh")]:
                side_terms.append((f"{side}:strong", term))

    context_terms: list[tuple[str, str]] = []
    for term in _as_list(doc.get("bilateral"), "bilateral"):
        context_terms.append(("bilateral", term))
    for term in _as_list(doc.get("measures"), "measures"):
        context_terms.append(("measure", term))
    topic_labels = {}
    strict = set()
    for name, spec in (doc.get("topics") or {}).items():
        topic_labels[name] = (spec or {}).get("label", name)
        if (spec or {}).get("strict"):
            strict.add(name)
        for term in _as_list((spec or {}).get("terms"), f"topics.{name}.terms"):
            context_terms.append((f"topic:{name}", term))
    for name, terms in (doc.get("negative") or {}).items():
        for term in _as_list(terms, f"negative.{name}"):
            context_terms.append((f"negative:{name}", term))

    # Masks are side "terms" that match longer phrases ("Washington Post") and count for nothing.
    for term in _as_list(doc.get("mask"), "mask"):
        side_terms.append(("mask", term))
    return Rules(
        version=version,
        threshold=float(doc.get("threshold", 0.5)),
        weights={k: float(v) for k, v in weights.items()},
        topic_labels=topic_labels,
        side_matcher=_Matcher(side_terms),
        context_matcher=_Matcher(context_terms),
        topic_names=tuple(topic_labels),
        strict_topics=frozenset(strict),
    )


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").translate(_DASHES)


def score_article(rules: Rules, title: str, summary: str = "") -> Relevance:
    w = rules.weights
    parts = {TITLE: _prepare(title), SUMMARY: _prepare(summary)}
    # evidence[label] = {term: weight}; a term in the title weighs 1, only in the summary less.
    evidence: dict[str, dict[str, float]] = {}
    for where, text in parts.items():
        weight = 1.0 if where == TITLE else w["summary_weight"]
        tokens = tokenize(text)
        lowered = [t.lower() for t in tokens]
        for label, term in (rules.side_matcher.find_tokens(tokens, lowered)
                            + rules.context_matcher.find_tokens(tokens, lowered)):
            bucket = evidence.setdefault(label, {})
            bucket[term] = max(bucket.get(term, 0.0), weight)

    def strength(side: str) -> float:
        strong = max(evidence.get(f"{side}:strong", {}).values(), default=0.0)
        weak = max(evidence.get(f"{side}:weak", {}).values(), default=0.0) * 0.5
        return max(strong, weak)

    us, cn = strength("us"), strength("china")
    bilateral = max(evidence.get("bilateral", {}).values(), default=0.0)
    rules_fired = []
    if bilateral:
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
        rules_fired.append("one_side_only" if (us or cn) else "no_side")

    topic_hits = {
        name: evidence[f"topic:{name}"] for name in rules.topic_names if f"topic:{name}" in evidence
    }
    topic_bonus = min(
        w["topic_cap"], sum(w["topic"] * max(terms.values()) for terms in topic_hits.values())
    )
    measure = max(evidence.get("measure", {}).values(), default=0.0)
    measure_bonus = w["measure"] * measure
    negatives = {k.split(":", 1)[1]: v for k, v in evidence.items() if k.startswith("negative:")}
    penalty_each = w["negative_with_measure"] if measure >= 1 else w["negative"]
    penalty = min(w["negative_cap"], sum(penalty_each * max(v.values()) for v in negatives.values()))
    if negatives:
        rules_fired.append("off_topic_context")

    score = base + topic_bonus + measure_bonus - penalty if base else 0.0
    score = round(max(0.0, min(1.0, score)), 3)
    relevant = base > 0 and score >= rules.threshold
    topics: tuple[str, ...] = ()
    if relevant:
        topics = tuple(
            name for name in rules.topic_names
            if name in topic_hits and (name not in rules.strict_topics or max(topic_hits[name].values()) >= 1
                                       or len(topic_hits[name]) >= 2)
        ) or ("diplomacy",)
    terms = {
        "us": sorted(set(evidence.get("us:strong", {})) | set(evidence.get("us:weak", {}))),
        "china": sorted(set(evidence.get("china:strong", {})) | set(evidence.get("china:weak", {}))),
        "bilateral": sorted(evidence.get("bilateral", {})),
        "measures": sorted(evidence.get("measure", {})),
        "topics": {name: sorted(terms) for name, terms in topic_hits.items()},
        "negative": {name: sorted(terms) for name, terms in negatives.items()},
        "rules": rules_fired,
    }
    return Relevance(score, relevant, topics, terms, rules.version)
