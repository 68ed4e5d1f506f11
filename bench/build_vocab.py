"""Rebuild bench/vocab.txt: word frequencies of the real publishers' feeds in
tests/fixtures/realfeeds, without the words the relevance rules read as a side (countries,
capitals, institutions, officials) or as off-topic context, so the background text of a
synthetic article says nothing about relevance; the generator adds those terms on purpose.

    python -m bench.build_vocab

Why real frequencies: story clustering hashes 3-word shingles, and how many shingles two
unrelated texts share decides how many LSH candidates each new article drags into the merge.
Text drawn from a small sentence pool shares whole sentences and made ~1,000x more candidates
per article than the real feeds do; i.i.d. words with real frequencies come close to them.
"""

from __future__ import annotations

import collections
import html
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def excluded_words() -> set[str]:
    topics = yaml.safe_load((ROOT / "config" / "topics.yaml").read_text(encoding="utf-8"))
    actors = yaml.safe_load((ROOT / "config" / "actors.yaml").read_text(encoding="utf-8"))
    phrases = list(_strings(topics.get("sides"))) + list(_strings(topics.get("bilateral")))
    phrases += list(_strings(topics.get("negative"))) + list(_strings(topics.get("mask")))
    for side in ("us", "china"):
        for person in actors.get(side) or []:
            phrases.append(person.get("name", ""))
            phrases += person.get("aliases") or []
    # A one-word term fires on its own; a phrase needs its words side by side, which i.i.d.
    # background words almost never produce, so only one-word terms are excluded.
    words = set()
    for p in phrases:
        tokens = re.findall(r"[A-Za-z][A-Za-z'.*-]*", p)
        if len(tokens) == 1:
            words.add(tokens[0].lower().rstrip("*").rstrip("."))
    return words


def main() -> None:
    counts = collections.Counter()
    for f in sorted((ROOT / "tests" / "fixtures" / "realfeeds").iterdir()):
        text = f.read_text(encoding="utf-8", errors="ignore")
        text = re.sub(r"<!\[CDATA\[|\]\]>", " ", text)
        for _ in range(2):
            text = html.unescape(text)
        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"https?://\S+", " ", text)
        counts.update(re.findall(r"[A-Za-z][a-z]+(?:'[a-z]+)?", text))
    drop = excluded_words()
    kept = [(w, c) for w, c in counts.most_common() if c >= 2 and w.lower().split("'")[0] not in drop and len(w) > 1]
    out = ROOT / "bench" / "vocab.txt"
    out.write_text("".join(f"{w} {c}\n" for w, c in kept), encoding="utf-8")
    print(f"{out}: {len(kept)} words ({len(drop)} rule words excluded)")


if __name__ == "__main__":
    main()
