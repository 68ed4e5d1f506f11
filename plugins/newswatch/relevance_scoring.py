"""Scoring one article against the compiled rules (relevance.py): which terms fired where --
headline, the summary's lead, or the body past the lead -- and the decisions taken on them.
Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .relevance_matcher import prepare_text, tokenize

if TYPE_CHECKING:
    from .relevance import Rules

TITLE, LEAD, BODY = "title", "lead", "body"  # where in an article a term was found


@dataclass(frozen=True)
class Relevance:
    score: float
    is_relevant: bool
    topics: tuple[str, ...]
    terms: dict  # evidence: what fired, stored as relevance_terms
    version: str


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
    r"|\s*;\s+|\s+while\s+|(?<=[?!])[\"'”’]?\s+"
)


def _separate_clauses(rules: Rules, title: str) -> list[str] | None:
    """The headline's clauses when one holds only US terms and another only China terms (and
    no clause holds both), else None."""
    clauses = [c for c in _CLAUSE_SPLIT_RE.split(prepare_text(title)) if c.strip()]
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
    tokens = tokenize(prepare_text(title))
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
    tokens = tokenize(prepare_text(title))
    lowered = [t.lower() for t in tokens]
    sides = [
        start
        for label, _, start, _ in rules.side_matcher.find_tokens(tokens, lowered, spans=True)
        if label.split(":", 1)[0] in ("us", "china")
    ]
    thirds = [
        start
        for label, _, start, _ in rules.context_matcher.find_tokens(tokens, lowered, spans=True)
        if label == "third_party"
    ]
    return bool(thirds) and (not sides or min(thirds) < min(sides))


def _no_side(rules: Rules) -> Relevance:
    terms = {
        "us": [],
        "china": [],
        "bilateral": [],
        "measures": [],
        "topics": {},
        "negative": {},
        "rules": ["no_side"],
        "where": {"us": None, "china": None, "bilateral": None},
        "passing": [],
        "kind": {"us": None, "china": None},
    }
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
    lead_text, body_text = split_lead(prepare_text(summary), rules.lead_min_chars, rules.lead_max_chars)
    zone_weight = {TITLE: 1.0, LEAD: w["summary_weight"], BODY: w["body_weight"]}
    zones = [
        (zone, tokens, [t.lower() for t in tokens])
        for zone, tokens in (
            (TITLE, tokenize(prepare_text(title))),
            (LEAD, tokenize(lead_text)),
            (BODY, tokenize(body_text)),
        )
        if tokens
    ]
    found = {zone: rules.side_matcher.find_tokens(tokens, lowered) for zone, tokens, lowered in zones}
    if not any(label != "mask" for hits in found.values() for label, _ in hits):
        return _no_side(rules)  # most articles: neither side, nothing more to look at
    for zone, tokens, lowered in zones:
        found[zone] += rules.context_matcher.find_tokens(tokens, lowered)
    # A roundup (newsletter, live blog, podcast; marked in its headline, or a newsletter's
    # "sign up" in its summary) is about many other things: it is judged on its headline alone.
    roundup = sorted(
        {
            term
            for zone, hits in found.items()
            for label, term in hits
            if label == ("roundup:title" if zone == TITLE else "roundup:summary")
        }
    )
    # evidence[label] = {term: best zone it was found in}
    evidence: dict[str, dict[str, str]] = {}
    for zone in (TITLE,) if roundup else (TITLE, LEAD, BODY):
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
                continue  # a US state counts only when it acts: a measure in headline or lead
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

    topic_hits = {name: evidence[f"topic:{name}"] for name in rules.topic_names if f"topic:{name}" in evidence}
    topic_bonus = min(w["topic_cap"], sum(w["topic"] * weight(f"topic:{name}") for name in topic_hits))
    measure = weight("measure")
    measure_bonus = w["measure"] * measure
    # An off-topic context counts from the headline, or from two different terms in the summary:
    # one market word in a summary ("...energy and revenue, six charts show where the US leads
    # China in AI") is not a market story.
    negatives: dict[str, dict[str, str]] = {}
    faint: dict[str, dict[str, str]] = {}
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
    kinds: dict[str, str | None] = {}
    for side in ("us", "china"):
        if side in implied:
            kinds[side] = "incident"
        elif any(z in kind_zones for z in evidence.get(f"{side}:strong", {}).values()):
            kinds[side] = "actor"
        elif any(z in kind_zones for z in evidence.get(f"{side}:country", {}).values()):
            kinds[side] = "country"
        elif any(z in kind_zones for z in evidence.get(f"{side}:weak", {}).values()) or (
            measure_central and any(z in kind_zones for z in evidence.get(f"{side}:state", {}).values())
        ):
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
    countries_only = (
        base > 0
        and kinds["us"] == "country"
        and kinds["china"] == "country"
        and bilateral_zone not in central
        and incident_zone not in central
    )
    if countries_only:
        acts = sorted(
            term
            for term, zone in evidence.get("measure", {}).items()
            if zone in central and term not in rules.spoken_measures
        )
        connection += [f"measure:{term}" for term in acts]
        third_first = bool(third) and _third_party_first(rules, title)
        connection += _connections(rules, title, relations=not third_first)
        if not third_first:
            connection += sorted(
                f"topic:{name}"
                for name in topic_hits
                if name in rules.connecting_topics and any(z in central for z in topic_hits[name].values())
            )
        if not connection:
            rules_fired.append("no_interaction")
            score = min(score, w["no_interaction_cap"])
    score = round(max(0.0, min(1.0, score)), 3)
    relevant = base > 0 and score >= rules.threshold
    topics: tuple[str, ...] = ()
    if relevant:
        topics = tuple(
            name for name in rules.topic_names if name in topic_hits and _tags_topic(rules, name, topic_hits[name])
        ) or ("diplomacy",)
    counted_states = measure_central and evidence.get("us:state")
    terms: dict[str, Any] = {
        "us": sorted(
            set(evidence.get("us:strong", {}))
            | set(evidence.get("us:country", {}))
            | set(evidence.get("us:weak", {}))
            | (set(evidence.get("us:state", {})) if counted_states else set())
        ),
        "china": sorted(
            set(evidence.get("china:strong", {}))
            | set(evidence.get("china:country", {}))
            | set(evidence.get("china:weak", {}))
        ),
        "bilateral": sorted(evidence.get("bilateral", {})),
        "measures": sorted(evidence.get("measure", {})),
        "topics": {name: sorted(terms) for name, terms in topic_hits.items()},
        "negative": {name: sorted(terms) for name, terms in negatives.items()},
        "rules": rules_fired,
        # where each side was found: title, lead (the summary's first sentences), body (past
        # the lead of a long summary), or null; "passing" lists sides judged mentioned in passing
        "where": {
            "us": us_where or (BODY if us_body else None),
            "china": cn_where or (BODY if cn_body else None),
            "bilateral": bilateral_zone,
        },
        "passing": passing,
        # what stands for each side centrally: actor, country, weak, incident or null
        "kind": kinds,
    }
    if countries_only:
        terms["connection"] = connection  # what connects two sides named only as countries
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
