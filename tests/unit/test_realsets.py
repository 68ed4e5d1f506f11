"""The real labelled sets (../shared beside the project): loaders, and the quality the relevance
rules reach on entries nobody here wrote. Skipped where the shared folder is absent."""

import io

import pytest

from newswatch.dev import realsets
from newswatch.relevance import load_rules

RULES = load_rules()
HAVE_2023 = (realsets.realdata_dir() / "labels.tsv").is_file()
HAVE_REALFEEDS = realsets.REALFEEDS_LABELS.is_file() and realsets.realfeeds_dir().is_dir()
needs_2023 = pytest.mark.skipif(not HAVE_2023, reason=f"no real 2023 set at {realsets.realdata_dir()}")
needs_realfeeds = pytest.mark.skipif(not HAVE_REALFEEDS, reason="no realfeeds labels or feeds")


@pytest.fixture(scope="module")
def items_2023():
    return list(realsets.load_realdata_2023())


@pytest.fixture(scope="module")
def items_realfeeds():
    return list(realsets.load_realfeeds_2026())


@needs_2023
def test_2023_loader_reads_every_entry_as_the_pipeline_would(items_2023):
    assert len(items_2023) == 2554
    assert len({i.id for i in items_2023}) == len(items_2023)
    by_day = {day: [i for i in items_2023 if i.group == day] for day in ("2023-02-04", "2023-03-21")}
    assert len(by_day["2023-02-04"]) == 860 and len(by_day["2023-03-21"]) == 1694
    labels = {}
    for item in items_2023:
        labels.setdefault(item.label, set()).add((item.group, item.link))
    # labels.tsv: 139 R, 230 I, 32 B (by day and link); every other entry counts as I
    assert len(labels["R"]) == 139 and len(labels["B"]) == 32
    assert all(i.title and "<" not in i.title for i in items_2023)
    assert all(len(i.summary) <= 2001 and "&rsquo;" not in i.summary for i in items_2023)
    # topics are the rules' names
    assert {t for i in items_2023 for t in i.topics} <= set(RULES.topic_names)
    assert all(not i.topics for i in items_2023 if i.label != "R")


@needs_realfeeds
def test_realfeeds_loader_finds_every_labelled_entry(items_realfeeds):
    rows = realsets.REALFEEDS_LABELS.read_text(encoding="utf-8").splitlines()[1:]
    assert len(items_realfeeds) == len([r for r in rows if r.strip()])
    assert {i.label for i in items_realfeeds} <= {"R", "I", "B"}
    assert {i.subset for i in items_realfeeds} <= {"2026", "older fixtures"}
    assert {t for i in items_realfeeds for t in i.topics} <= set(RULES.topic_names)


def test_an_absent_shared_folder_is_reported_not_raised(tmp_path):
    results = realsets.evaluate_real_sets(
        RULES, realdata=tmp_path / "nope", realfeeds=tmp_path / "nope", realfeeds_labels=tmp_path / "nope.tsv"
    )
    assert [r.available for r in results] == [False, False]
    assert all("skipped" in r.note for r in results)
    out = io.StringIO()
    realsets.print_report(results, misses=True, file=out)
    assert "realdata-2023: skipped" in out.getvalue()


def test_scoring_counts_b_out_and_keeps_the_misses():
    items = [
        realsets.RealItem("1", "d", "d", "l1", "US shoots down Chinese spy balloon", "", "R", ("espionage_cyber",)),
        realsets.RealItem("2", "d", "d", "l2", "US and China to talk trade", "", "I", ()),
        realsets.RealItem("3", "d", "d", "l3", "Jordan, Cruz shred Biden over Chinese spy balloon", "", "B", ()),
        realsets.RealItem("4", "d", "d", "l4", "Recovery underway where balloon came down", "", "R", ()),
    ]
    result = realsets.score_items(items, RULES, "t")
    assert (result.relevance.tp, result.relevance.fp, result.relevance.fn, result.relevance.tn) == (1, 1, 1, 0)
    assert result.labelled == 3 and result.items == 4
    assert sorted(m.kind for m in result.misses) == ["fn", "fp"]
    assert all("rules" in m.evidence and "where" in m.evidence for m in result.misses)
    assert result.topics["espionage_cyber"].tp == 1


# Floors: the figures reached with rules version 3 (side kinds: two sides named only as
# countries need something connecting them), a little below, so a rule change that loses ground
# on real entries fails here. Reached: all P 0.971 R 0.978 (tp 136, fp 4, fn 3); 02-04 P 0.991
# R 0.982; 03-21 P 0.900 R 0.964 (tp 27, fp 3, fn 1); topics micro P 0.905 R 0.960.
@needs_2023
def test_quality_floor_real_2023(items_2023):
    result = realsets.score_items(items_2023, RULES, "realdata-2023")
    pr, topics = result.relevance, result.topics_micro
    assert pr.precision >= 0.965 and pr.recall >= 0.97, pr.row()
    assert topics.precision >= 0.90 and topics.recall >= 0.95, topics.row()
    day1, day2 = result.by_subset["2023-02-04"], result.by_subset["2023-03-21"]
    assert day1.precision >= 0.98 and day1.recall >= 0.97, day1.row()
    assert day2.precision >= 0.89 and day2.recall >= 0.95, day2.row()


@needs_realfeeds
def test_quality_floor_realfeeds(items_realfeeds):
    # 4 R among ~300: counts, not percentages (one miss moves recall by 25 points).
    # Reached with version 3: tp 4, fp 0, fn 0.
    result = realsets.score_items(items_realfeeds, RULES, "realfeeds")
    pr = result.relevance
    assert pr.fp == 0 and pr.fn == 0, pr.row()
