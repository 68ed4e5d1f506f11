"""The body rule that regroups stories (fingerprints.same_body), checked on real article text:
the 88 pages of ../shared/articles with their true bodies (read from there, never copied)."""

import itertools
import json

import pytest

from newswatch.config import DevSettings
from newswatch.fingerprints import BODY_SAME_TEXT_OVERLAP, body_fingerprint, estimated_overlap, same_body

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
    checked = 0
    for body in bodies:
        paragraphs = [p for p in body.split("\n") if p.strip()]
        if len(paragraphs) < 4:
            continue
        reprint = "\n".join([*paragraphs[: max(1, len(paragraphs) * 2 // 5)], "Reporting by a wire service."])
        assert same_body(body_fingerprint(body), body_fingerprint(reprint)), paragraphs[0][:80]
        checked += 1
    assert checked > 60
