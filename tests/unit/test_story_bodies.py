"""The body rule that regroups stories (fingerprints.same_body), checked on real article text:
the 88 pages of ../shared/articles with their true bodies (read from there, never copied)."""

import itertools
import json

import pytest

from newswatch.config import DevSettings
from newswatch.fingerprints import (
    BODY_SAME_TEXT_OVERLAP,
    body_fingerprint,
    comparable_body,
    estimated_overlap,
    same_body,
)

TRUTH = DevSettings.from_env().articles_dir / "ground-truth.json"
pytestmark = pytest.mark.skipif(not TRUTH.exists(), reason=f"no real article set at {TRUTH.parent}")


@pytest.fixture(scope="module")
def bodies() -> list[str]:
    return [v["articleBody"] for v in json.loads(TRUTH.read_text()).values() if v.get("articleBody")]


def test_no_two_different_real_articles_are_taken_for_one_text(bodies):
    fps = [body_fingerprint(b) for b in bodies]
    overlaps = [estimated_overlap(a, b) for a, b in itertools.combinations(fps, 2)]
    assert len(overlaps) > 3000
    assert not any(same_body(a, b) for a, b in itertools.combinations(fps, 2))
    assert max(overlaps) < BODY_SAME_TEXT_OVERLAP - 0.05  # with room to spare


def test_a_real_article_trimmed_to_its_opening_by_a_reprinting_site_is_still_one_text(bodies):
    checked = too_short = 0
    for body in bodies:
        paragraphs = [p for p in body.split("\n") if p.strip()]
        if len(paragraphs) < 4:
            continue
        reprint = body_fingerprint(
            "\n".join([*paragraphs[: max(1, len(paragraphs) * 2 // 5)], "Reporting by a wire service."])
        )
        if not comparable_body(reprint):  # too short to judge: regrouping leaves it where it is
            too_short += 1
            continue
        assert same_body(body_fingerprint(body), reprint), paragraphs[0][:80]
        checked += 1
    assert checked > 55 and too_short < checked / 4


def test_a_short_opening_is_never_compared(bodies):
    """A 10-word opening against long bodies: the estimate is noise, so it is not compared."""
    openings = [body_fingerprint(" ".join(b.split()[:10])) for b in bodies]
    assert not any(comparable_body(fp) for fp in openings)
    full = [body_fingerprint(b) for b in bodies]
    assert not any(same_body(o, f) for o in openings for f in full)


def test_the_all_pairs_check_agrees_with_the_pairwise_rule(bodies):
    from newswatch.fingerprints import same_body_pairs

    texts = bodies[:30] + [" ".join(b.split()[: len(b.split()) // 2]) for b in bodies[:30]] + ["Too short."]
    fps = [body_fingerprint(t) for t in texts]
    expected = {(i, j) for i in range(len(fps)) for j in range(i + 1, len(fps)) if same_body(fps[i], fps[j])}
    assert len(expected) >= 25  # each body with its own first half, at least
    assert set(same_body_pairs(fps)) == expected
