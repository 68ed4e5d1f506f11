from datetime import UTC, datetime, timedelta

from newswatch.dedupe import KnownArticle, NewForClustering, StagedEntry, StoryCandidate, plan_merge, plan_stories
from newswatch.fingerprints import (
    NUM_PERM,
    Fingerprint,
    fingerprint,
    minhash_signature,
    same_story,
    shingles,
    text_tokens,
    title_dates,
)

T0 = datetime(2026, 11, 28, 12, tzinfo=UTC)


def staged(i, feed="a", url="https://ex.com/1", guid=None, title="Title", summary="Summary", h=None):
    return StagedEntry(
        i,
        100 + i,
        feed,
        url,
        url + "?utm_source=x",
        guid,
        title,
        summary,
        h or f"{title}|{summary}",
        T0 + timedelta(minutes=i),
    )


def test_same_url_in_two_feeds_is_one_article_and_two_sightings():
    plan = plan_merge([staged(1, "a"), staged(2, "b")], {}, {}, {})
    assert list(plan.new_articles) == [-1]
    assert set(plan.sightings) == {(-1, "a"), (-1, "b")}
    assert plan.outcomes == {1: "new", 2: "sighting"}


def test_known_article_seen_again_is_a_sighting():
    known = KnownArticle(7, "https://ex.com/1", "Title", "Summary", "Title|Summary", 1, T0)
    plan = plan_merge([staged(1)], {"https://ex.com/1": known}, {}, {(7, "a"): "Title|Summary"})
    assert plan.new_articles == {} and plan.outcomes == {1: "sighting"} and plan.updates == []


def test_guid_seen_before_in_the_same_feed_wins_over_a_changed_link():
    known = KnownArticle(7, "https://ex.com/old", "Title", "Summary", "Title|Summary", 1, T0)
    plan = plan_merge(
        [staged(1, url="https://ex.com/new", guid="g1")], {}, {("a", "g1"): 7}, {(7, "a"): "Title|Summary"}, {7: known}
    )
    assert plan.article_of[1] == 7 and plan.new_articles == {}


def test_changed_text_from_the_same_feed_is_a_revision():
    known = KnownArticle(7, "https://ex.com/1", "Old title", "Summary", "old", 1, T0)
    plan = plan_merge([staged(1, title="New title", h="new")], {"https://ex.com/1": known}, {}, {(7, "a"): "old"})
    assert plan.outcomes == {1: "updated"}
    (update,) = plan.updates
    assert update.article_id == 7 and update.new_revision == 2
    assert update.previous.title == "Old title" and update.previous.valid_from == T0


def test_another_feeds_different_excerpt_does_not_flip_flop_the_article():
    known = KnownArticle(7, "https://ex.com/1", "Title", "Long summary", "long", 1, T0)
    plan = plan_merge(
        [staged(1, feed="b", summary="Short", h="short")], {"https://ex.com/1": known}, {}, {(7, "a"): "long"}
    )
    assert plan.outcomes == {1: "sighting"} and plan.updates == []
    again = plan_merge(
        [staged(2, feed="b", summary="Short", h="short")],
        {"https://ex.com/1": known},
        {},
        {(7, "a"): "long", (7, "b"): "short"},
    )
    assert again.updates == []


def test_revision_within_one_batch_keeps_the_later_text_without_a_revision_row():
    plan = plan_merge([staged(1, h="v1"), staged(2, title="Title v2", h="v2")], {}, {}, {})
    assert plan.new_articles == {-1: 1} and plan.text_of == {-1: 2} and plan.updates == []
    assert plan.outcomes == {1: "new", 2: "updated"}


WIRE = (
    "BEIJING (AP) — U.S. Secretary of State Antony Blinken arrives in China this week for talks expected to "
    "cover Russia, fentanyl, Taiwan and export controls, as the two superpowers try to keep their rivalry from "
    "spilling into conflict."
)


def test_reprints_and_pointers_join_one_story_different_reports_do_not():
    ap = fingerprint("Blinken set to meet Chinese leaders as superpowers manage rivalry", WIRE)
    reprint = fingerprint(
        "Blinken to meet Chinese leaders as superpowers manage rivalry",
        WIRE.replace("BEIJING (AP) — ", "") + " The post Blinken appeared first on PBS News.",
    )
    pointer = fingerprint("Blinken set to meet Chinese leaders as superpowers manage rivalry", "")
    reuters = fingerprint(
        "Blinken heads to China with a long list of grievances",
        "Secretary of State Antony Blinken will press Beijing over its support for Russia's "
        "military, officials said on Monday, in a trip both sides hope will steady ties.",
    )
    assert same_story(ap, reprint)[0] and same_story(ap, pointer)[0]
    assert not same_story(ap, reuters)[0]
    plan = plan_stories(
        [NewForClustering(-1, reprint), NewForClustering(-2, pointer), NewForClustering(-3, reuters)],
        [StoryCandidate(article_id=10, story_id=99, fingerprint=ap)],
    )
    assert plan.story_of == {-1: 99, -2: 99, -3: -3}
    assert plan.new_stories == [-3]


def test_new_articles_in_one_batch_cluster_with_each_other():
    a = fingerprint("China and US agree to resume military talks", WIRE)
    b = fingerprint("China, US agree to resume military talks", WIRE)
    plan = plan_stories([NewForClustering(-1, a), NewForClustering(-2, b)], [])
    assert plan.story_of == {-1: -1, -2: -1} and plan.new_stories == [-1]


def test_a_headline_only_entry_does_not_bridge_two_different_reports():
    wire = fingerprint(
        "U.S. and China agree to resume military maritime consultations",
        "BEIJING (AP) — The United States and China agreed Tuesday to resume regular talks between "
        "their militaries on avoiding accidents at sea and in the air, as Secretary of State Antony "
        "Blinken wrapped up two days of meetings in Beijing.",
    )
    pointer = fingerprint("US and China agree to resume military maritime talks", "")
    analysis = fingerprint(
        "U.S. and China Agree to Resume Military Talks at Sea",
        "The agreement, announced at the end of Secretary of State Antony Blinken's visit to "
        "Beijing, restores a channel meant to prevent collisions between warships and aircraft.",
    )
    assert same_story(wire, pointer)[0] and same_story(analysis, pointer)[0]
    assert not same_story(wire, analysis)[0]
    # the wire report and the pointer to it are one story already; the analysis matches only the pointer
    plan = plan_stories(
        [NewForClustering(-1, analysis)],
        [
            StoryCandidate(article_id=10, story_id=7, fingerprint=wire),
            StoryCandidate(article_id=11, story_id=7, fingerprint=pointer),
        ],
    )
    assert plan.story_of == {-1: -1}
    # ... also when only the pointer is a candidate and the story's text comes from the warehouse
    only_pointer = [StoryCandidate(article_id=11, story_id=7, fingerprint=pointer)]
    assert plan_stories([NewForClustering(-1, analysis)], only_pointer, {7: [wire]}).story_of == {-1: -1}
    assert plan_stories([NewForClustering(-1, analysis)], only_pointer).story_of == {-1: 7}  # nothing to veto with
    # the same within one batch, whichever comes first
    for order in ([wire, pointer, analysis], [pointer, analysis, wire], [analysis, pointer, wire]):
        refs = {id(fp): -(i + 1) for i, fp in enumerate(order)}
        plan = plan_stories([NewForClustering(refs[id(fp)], fp) for fp in order], [])
        assert plan.story_of[refs[id(analysis)]] != plan.story_of[refs[id(wire)]]


def test_dated_templates_stay_apart():
    a = fingerprint("Foreign Ministry Spokesperson Mao Ning's Regular Press Conference on March 4, 2024", "")
    b = fingerprint("Foreign Ministry Spokesperson Mao Ning's Regular Press Conference on March 5, 2024", "")
    assert not same_story(a, b)[0]
    assert title_dates("2023年4月国防部例行记者会文字实录") == "2023 4"
    assert title_dates("Blinken meets Wang") is None


def test_band_keys_include_the_title_key():
    fp = fingerprint("Blinken set to meet Chinese leaders as superpowers manage rivalry", WIRE)
    keys = fp.keys()
    assert len(keys) == 49 and keys[-1] == fp.title_key
    short = fingerprint("Xi speaks", "")
    assert short.title_key is None and len(short.keys()) == 48


def test_signatures_are_datasketchs_minhash_of_the_same_shingles():
    # fingerprints stored by earlier versions must keep matching new ones: the fast path has to
    # give exactly what datasketch's MinHash gives for the same shingles and hash function
    import random
    import zlib

    import numpy as np
    from datasketch import MinHash

    rng = random.Random(3)
    words = [
        "china",
        "united",
        "states",
        "talks",
        "tariffs",
        "taiwan",
        "中",
        "美",
        "关",
        "系",
        "the",
        "of",
        "a",
        "in",
        "on",
    ]
    texts = ["", "one", "two words", WIRE] + [
        " ".join(rng.choice(words) for _ in range(rng.randint(1, 300))) for _ in range(200)
    ]
    for text in texts:
        grams = shingles(text_tokens(text))
        reference = MinHash(num_perm=NUM_PERM, seed=7, hashfunc=zlib.crc32)
        reference.update_batch(list(grams))
        assert minhash_signature(grams).tobytes() == reference.hashvalues.astype(np.uint32).tobytes(), text
        assert grams == {" ".join(g).encode() for g in _slow_shingles(text_tokens(text))}


def _slow_shingles(tokens, k=3):
    if len(tokens) <= k:
        return [tokens] if tokens else []
    return [tokens[i : i + k] for i in range(len(tokens) - k + 1)]


def test_fingerprint_round_trips_through_bytes():
    fp = fingerprint("A title long enough to matter here", WIRE)
    again = Fingerprint(bytes(fp.signature), fp.shingle_count, fp.title_key, fp.has_summary, fp.title_dates)
    assert same_story(fp, again)[0]


def test_a_new_article_carries_the_fullest_text_whatever_order_the_feeds_came_in():
    short = staged(1, feed="b_top", summary="One sentence.", h="short")
    full = staged(2, feed="a_politics", summary="One sentence. And the rest of the wire copy.", h="full")
    for order in ([short, full], [full, short]):
        entries = [
            StagedEntry(
                i + 1,
                e.fetch_id,
                e.feed_name,
                e.canonical_url,
                e.url,
                e.guid,
                e.title,
                e.summary,
                e.content_hash,
                e.seen_at,
            )
            for i, e in enumerate(order)
        ]
        plan = plan_merge(entries, {}, {}, {})
        (staged_id,) = plan.text_of.values()
        chosen = next(e for e in entries if e.staged_id == staged_id)
        assert chosen.summary.startswith("One sentence. And")
        assert plan.new_articles == {-1: 1}  # the URL and first sighting stay the first entry's
    for names in (("zeta", "alpha"), ("reuters_world", "reuters"), ("reuters", "reuters_world")):
        plan = plan_merge(
            [staged(1, feed=names[0], summary="Same."), staged(2, feed=names[1], summary="Same!")], {}, {}, {}
        )
        winner = {1: names[0], 2: names[1]}[plan.text_of[-1]]
        assert winner == min(names)  # equal length: the first feed by name


def test_a_guid_with_a_new_link_in_one_batch_keeps_one_article_at_its_first_url():
    a1 = staged(1, feed="a", url="https://ex.com/u1", guid="g", title="Draft", h="draft")
    b = staged(3, feed="b", url="https://ex.com/u2", title="Final", h="final")
    a2 = StagedEntry(
        2, 200, "a", "https://ex.com/u2", "https://ex.com/u2", "g", "Final", "Summary", "final", a1.seen_at
    )  # a later fetch of feed a
    plan = plan_merge([a1, a2, b], {}, {}, {})
    assert plan.new_articles == {-1: 1} and plan.text_of == {-1: 2}
    assert set(plan.article_of.values()) == {-1}  # u2 is the same article, never a second row at u2


def test_a_feed_that_reuses_one_guid_does_not_merge_its_articles():
    same_guid = [
        StagedEntry(
            i,
            100,
            "bad",
            f"https://ex.com/{i}",
            f"https://ex.com/{i}",
            "https://ex.com/",
            f"Title {i}",
            "Summary",
            f"h{i}",
            staged(i).seen_at,
        )
        for i in (1, 2, 3)
    ]
    plan = plan_merge(same_guid, {}, {}, {})
    assert len(plan.new_articles) == 3 and set(plan.outcomes.values()) == {"new"}


def test_polls_of_one_feed_merged_together_are_each_a_sighting_dated_from_the_first():
    plan = plan_merge([staged(1, "a"), staged(2, "a"), staged(3, "a"), staged(4, "b")], {}, {}, {})
    a, b = plan.sightings[(-1, "a")], plan.sightings[(-1, "b")]
    assert (a.times, a.first_seen_at, a.seen_at, a.staged_id) == (
        3,
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=3),
        3,
    )
    assert (b.times, b.first_seen_at) == (1, T0 + timedelta(minutes=4))


# --- stories regrouped by their articles' bodies ------------------------------------------------

WIRE = (
    "Secretary of State Antony Blinken will travel to Beijing this weekend for talks with Chinese leaders, "
    "the State Department said on Wednesday, as the two superpowers try to keep their rivalry from tipping "
    "into conflict. Officials said he would raise fentanyl, Taiwan, Russia's war in Ukraine and export "
    "controls on advanced chips, and that no breakthrough was expected from the two days of meetings. "
    "The trip, postponed in February after a Chinese balloon crossed the United States, is the first by a "
    "secretary of state in five years; aides said he hoped to restore channels between the two militaries "
    "and to prepare for a possible meeting between the two presidents later in the year."
)
OTHER = (
    "China's commerce ministry announced new licensing rules for gallium and germanium exports on Monday, "
    "saying the measures protect national security; analysts in Tokyo and Seoul said chipmakers had "
    "stockpiled supplies for months and that prices of both metals jumped in early trading in Shanghai. "
    "Exporters will have to name the end users of the metals, and licences may take up to 45 working days, "
    "the ministry said, adding that the rules would be applied fairly to all trading partners."
)
THIRD = (
    "Lawmakers in Washington pressed the administration on Tuesday over a report that a Chinese surveillance "
    "company supplied cameras to police forces abroad, and a House committee scheduled a hearing on the "
    "contracts, the companies involved and whether federal grants had paid for any of the equipment. "
    "The company denied wrongdoing in a statement and said its products were sold through distributors "
    "it did not control, while two senators asked the Commerce Department to review its export licences."
)


def member(article_id, story_id, body=None, minute=None):
    from newswatch.dedupe import StoryMember
    from newswatch.fingerprints import body_fingerprint

    seen = T0 + timedelta(minutes=article_id if minute is None else minute)
    return StoryMember(article_id, story_id, seen, body_fingerprint(body) if body is not None else None)


def test_an_article_whose_body_is_another_text_leaves_its_story_for_a_new_one():
    from newswatch.dedupe import regroup_by_body

    plan = regroup_by_body([member(1, 10, WIRE), member(2, 10, OTHER), member(3, 10)], family=10)
    assert plan.moves == {2: -1} and plan.new_stories == [-1]  # the earliest keeps the story


def test_a_trimmed_reprint_and_a_chain_of_copies_stay_together():
    from newswatch.dedupe import regroup_by_body

    trimmed = WIRE.split(" The trip,")[0] + " Reporting by our Washington bureau."
    assert regroup_by_body([member(1, 10, WIRE), member(2, 10, trimmed), member(3, 10, WIRE)], family=10).moves == {}


def test_a_body_too_short_to_compare_counts_as_no_body():
    from newswatch.dedupe import regroup_by_body

    assert regroup_by_body([member(1, 10, WIRE), member(2, 10, "Subscribe to read the rest.")], family=10).moves == {}


def test_the_familys_first_story_keeps_its_id_and_a_lone_split_off_article_stays_put():
    from newswatch.dedupe import regroup_by_body

    # 1 is alone in the first story; 4 and 5, the same text, went to story 11 with 2 (another text)
    members = [member(1, 10, WIRE), member(2, 11, OTHER), member(4, 11, WIRE), member(5, 11, WIRE)]
    assert regroup_by_body(members, family=10).moves == {4: 10, 5: 10}


def test_the_groups_do_not_depend_on_the_order_the_bodies_came_in_and_a_second_pass_moves_nothing():
    import itertools

    from newswatch.dedupe import regroup_by_body

    bodies = {1: WIRE, 2: OTHER, 3: WIRE, 4: THIRD, 5: None}  # 5: a page never fetched
    partitions = set()
    for order in ([1, 2, 3, 4], [2, 1, 3, 4], [4, 3, 2, 1], [3, 4, 1, 2]):
        story_of = dict.fromkeys(bodies, 10)  # the merge put all five in story 10
        fetched: set[int] = set()
        fresh = itertools.count(100)
        for arrived in order:  # bodies arrive one by one; the family is regrouped after each
            fetched.add(arrived)
            members = [member(a, story_of[a], bodies[a] if a in fetched else None) for a in bodies]
            plan = regroup_by_body(members, family=10)
            new_ids = {ref: next(fresh) for ref in plan.new_stories}
            story_of.update({a: new_ids.get(s, s) for a, s in plan.moves.items()})
        again = regroup_by_body(
            [member(a, story_of[a], bodies[a]) for a in bodies if bodies[a]] + [member(5, story_of[5])], family=10
        )
        assert again.moves == {}
        groups: dict[int, set[int]] = {}
        for a, story in story_of.items():
            groups.setdefault(story, set()).add(a)
        partitions.add(frozenset(frozenset(g - {5}) for g in groups.values() if g - {5}))
        assert story_of[5] == 10  # without a body an article stays where the merge put it
    assert partitions == {frozenset({frozenset({1, 3}), frozenset({2}), frozenset({4})})}


def test_same_story_each_gives_every_pair_what_same_story_gives_it():
    from newswatch.fingerprints import same_story_each

    wire = "Blinken will meet Chinese leaders in Beijing as the superpowers manage a rivalry over Taiwan"
    texts = [
        ("Blinken to meet Chinese leaders", wire),
        ("Blinken set to meet Chinese leaders as superpowers manage rivalry", ""),  # a pointer
        ("Blinken in Beijing", wire[:60]),  # a trimmed reprint
        ("Regular Press Conference on March 4, 2024", "Spokesperson answered questions"),
        ("Regular Press Conference on March 5, 2024", "Spokesperson answered questions"),
        ("Short", ""),
        ("", ""),  # no shingles at all
        ("Rates unchanged", "The central bank left interest rates unchanged on Thursday."),
    ]
    fps = [fingerprint(t, s) for t, s in texts]
    for a in fps:
        assert same_story_each(a, fps) == [same_story(a, b) for b in fps]
    assert same_story_each(fps[0], []) == []
