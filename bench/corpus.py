"""The synthetic feed corpus: N feeds x M entries, written once per (feeds, entries, seed).

Composition (fractions of all entries, drawn per slot):
  - ~60% originals: a new article of the feed's outlet;
  - ~30% repeats: an article already carried by another feed, under a URL variant (tracking
    parameters, http/https, www or not, AMP path or query) with the same text. newswatch must
    count them as sightings of one article;
  - ~10% reprints: another outlet's copy of an existing article with small edits (a few words,
    maybe the last sentence) under its own URL: a distinct article in the same story.
Feeds are a mix of RSS 2.0 (~60%) and Atom 1.0; ~5% of the feeds are in Chinese. Summaries are
HTML with 50–150 words (links, bold, entities, and the boilerplate feeds add), dates within the
last three days so every date is trusted and every article falls in the story window.

The "syndicated" scenario (SCENARIOS) is the other shape newswatch meets: every feed on one
host, a third of the entries repeated across feeds under URLs with tracking parameters, no
reprints, and summaries of exactly 80 words drawn from the 300 commonest words, so unrelated
articles share many shingles and story clustering gets its heaviest candidate load.

The documents are plain files in <out>/corpus/<key>/feeds; a manifest records what was made.
The feeds YAML is written separately once the server's port is known (`write_feeds_yaml`).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from .text import TextMaker, edit_text

OUTLETS = [
    ("Reuters", "reuters.com"),
    ("Associated Press", "apnews.com"),
    ("BBC News", "bbc.co.uk"),
    ("The New York Times", "nytimes.com"),
    ("The Guardian", "theguardian.com"),
    ("CNN", "cnn.com"),
    ("Bloomberg", "bloomberg.com"),
    ("Financial Times", "ft.com"),
    ("Al Jazeera", "aljazeera.com"),
    ("NPR", "npr.org"),
    ("CNBC", "cnbc.com"),
    ("South China Morning Post", "scmp.com"),
    ("Nikkei Asia", "asia.nikkei.com"),
    ("The Japan Times", "japantimes.co.jp"),
    ("Straits Times", "straitstimes.com"),
    ("Deutsche Welle", "dw.com"),
    ("France 24", "france24.com"),
    ("ABC News", "abcnews.go.com"),
    ("CBS News", "cbsnews.com"),
    ("PBS NewsHour", "pbs.org"),
    ("Politico", "politico.com"),
    ("The Hill", "thehill.com"),
    ("Axios", "axios.com"),
    ("Voice of America", "voanews.com"),
    ("Radio Free Asia", "rfa.org"),
    ("Global Times", "globaltimes.cn"),
    ("China Daily", "chinadaily.com.cn"),
    ("Xinhua", "english.news.cn"),
    ("CGTN", "cgtn.com"),
    ("Taipei Times", "taipeitimes.com"),
    ("Focus Taiwan", "focustaiwan.tw"),
    ("The Diplomat", "thediplomat.com"),
    ("Foreign Policy", "foreignpolicy.com"),
    ("Brookings", "brookings.edu"),
    ("CSIS", "csis.org"),
    ("Council on Foreign Relations", "cfr.org"),
    ("US State Department", "state.gov"),
    ("USTR", "ustr.gov"),
    ("Yonhap", "en.yna.co.kr"),
    ("Kyodo News", "english.kyodonews.net"),
    ("ABC Australia", "abc.net.au"),
    ("The Hindu", "thehindu.com"),
    ("Times of India", "timesofindia.indiatimes.com"),
    ("Washington Examiner", "washingtonexaminer.com"),
    ("Fox News", "foxnews.com"),
    ("Newsweek", "newsweek.com"),
    ("Time", "time.com"),
    ("The Economist", "economist.com"),
    ("Caixin Global", "caixinglobal.com"),
    ("Sixth Tone", "sixthtone.com"),
]
ZH_OUTLETS = [
    ("新华网", "xinhuanet.com"),
    ("人民网", "people.com.cn"),
    ("环球网", "huanqiu.com"),
    ("联合早报", "zaobao.com.sg"),
]
GENERATOR_VERSION = 2

SECTIONS = [
    "world",
    "world/asia",
    "world/china",
    "politics",
    "business",
    "news/world-asia",
    "international",
    "asia-pacific",
    "china",
]


@dataclass
class Article:
    """One distinct article (one canonical URL) somewhere in the corpus."""

    aid: int
    outlet: str
    domain: str
    path: str
    title: str
    summary: str  # plain text; HTML is added per appearance
    published: datetime
    zh: bool


def url_variant(rng: random.Random, domain: str, path: str) -> tuple[str, str]:
    """(variant URL, kind): what another feed links to for the same article. Every variant
    canonicalises to https://<domain><path> under newswatch's rules (urls.py)."""
    kind = rng.choice(["utm", "http", "www", "amp_path", "amp_query", "tracking_mix", "plain"])
    base_host = domain if rng.random() < 0.5 else "www." + domain
    if kind == "utm":
        return f"https://{base_host}{path}?utm_source=rss&utm_medium=feed&utm_campaign=world", kind
    if kind == "http":
        return f"http://{base_host}{path}", kind
    if kind == "www":
        host = domain if base_host.startswith("www.") else "www." + domain
        return f"https://{host}{path}", kind
    if kind == "amp_path":
        head, _, tail = path.rpartition("/")
        return f"https://{base_host}{head}/amp/{tail}", kind
    if kind == "amp_query":
        return f"https://{base_host}{path}?outputType=amp", kind
    if kind == "tracking_mix":
        return f"http://{base_host}{path}?fbclid=IwAR{rng.randrange(10**8)}&ref=rss&at_medium=RSS", kind
    return f"https://{base_host}{path}", kind


def summary_html(rng: random.Random, text: str, outlet: str, link: str) -> str:
    """Wrap plain text the way feeds do: paragraphs, a link or bold, entities, boilerplate."""
    words = text.split()
    if len(words) > 12 and rng.random() < 0.5:
        i = rng.randrange(3, len(words) - 3)
        words[i] = f'<a href="{escape(link, {chr(34): "&quot;"})}">{words[i]}</a>'
    if len(words) > 12 and rng.random() < 0.3:
        i = rng.randrange(0, 5)
        words[i] = f"<b>{words[i]}</b>"
    body = " ".join(words).replace(" & ", " &amp; ").replace("'", "&#8217;")
    if rng.random() < 0.5 and ". " in body:
        first, rest = body.split(". ", 1)
        body = f"<p>{first}.</p><p>{rest}</p>"
    else:
        body = f"<p>{body}</p>"
    r = rng.random()
    if r < 0.15:
        body += f'<p>The post <a href="{link}">{words[0]}</a> appeared first on {escape(outlet)}.</p>'
    elif r < 0.30:
        body += f'<p><a href="{link}">Continue reading...</a></p>'
    return body


@dataclass(frozen=True)
class Scenario:
    repeats: float = 0.30  # share of entries that repeat another feed's article
    reprints: float = 0.10  # share that are edited reprints (their own URL)
    tracking_only: bool = False  # repeats differ only by tracking parameters
    summary_words: tuple[int, int] = (50, 150)
    common_words: int | None = None


SCENARIOS = {
    "standard": Scenario(),
    "syndicated": Scenario(repeats=1 / 3, reprints=0.0, tracking_only=True, summary_words=(80, 80), common_words=300),
}


def tracking_variant(rng: random.Random, domain: str, path: str) -> tuple[str, str]:
    """(URL, kind): the article's own address with tracking parameters a syndication adds."""
    kind = rng.choice(["utm", "tracking_mix"])
    if kind == "utm":
        return f"https://www.{domain}{path}?utm_source=partner{rng.randrange(50)}&utm_medium=syndication", kind
    return f"https://www.{domain}{path}?fbclid=IwAR{rng.randrange(10**8)}&ocid=feed&cmpid=rss", kind


class CorpusBuilder:
    def __init__(self, feeds: int, entries: int, seed: int, now: datetime, scenario: Scenario = Scenario()):
        self.rng = random.Random(seed)
        self.scenario = scenario
        self.text = TextMaker(random.Random(seed + 1), common_words=scenario.common_words)
        self.n_feeds, self.n_entries, self.now = feeds, entries, now
        self.articles: list[Article] = []
        # per language, the articles of earlier feeds: repeats and reprints come from there
        self.by_lang: dict[bool, list[Article]] = {True: [], False: []}
        self.stats = {"originals": 0, "repeats": 0, "reprints": 0, "variants": {}}

    def _new_article(self, outlet: str, domain: str, zh: bool, title=None, summary=None) -> Article:
        rng = self.rng
        aid = len(self.articles)
        published = self.now - timedelta(seconds=rng.randrange(3 * 24 * 3600))
        relevant = True
        if title is None:
            title, relevant = self.text.zh_headline() if zh else self.text.headline()
        if summary is None:
            lo, hi = self.scenario.summary_words
            summary = self.text.zh_summary() if zh else self.text.summary_words(lo, hi, relevant=relevant)
        slug = self.text.slug(title) if not zh else "content"
        section = rng.choice(SECTIONS)
        ending = rng.choice(["", ".html", "/"])
        path = f"/{section}/{published:%Y/%m/%d}/{slug}-{aid}{ending}".replace("//", "/")
        article = Article(aid, outlet, domain, path, title, summary, published, zh)
        self.articles.append(article)
        return article

    def feed_items(self, feed_index: int, outlet: str, domain: str, zh: bool) -> list[dict]:
        """The M entries of one feed, as dicts ready to serialise."""
        rng = self.rng
        items = []
        earlier = self.by_lang[zh]
        n_earlier = len(earlier)  # only articles of earlier feeds, not this one's
        made: list[Article] = []

        def pick() -> Article:
            # recent articles are the ones other feeds carry: draw from the last 5,000
            return earlier[rng.randrange(max(0, n_earlier - 5000), n_earlier)]

        for _ in range(self.n_entries):
            roll = rng.random()
            if roll < self.scenario.repeats and n_earlier:
                # a repeat: someone else's article under a URL variant, same text
                a = pick()
                variant = tracking_variant if self.scenario.tracking_only else url_variant
                link, kind = variant(rng, a.domain, a.path)
                self.stats["repeats"] += 1
                self.stats["variants"][kind] = self.stats["variants"].get(kind, 0) + 1
                items.append(self._item(a, link, guid=link, outlet=a.outlet))
            elif roll < self.scenario.repeats + self.scenario.reprints and n_earlier:
                # a reprint: this outlet's own copy of another outlet's text, lightly edited
                src = pick()
                title = edit_text(rng, src.title, 1) if not zh else src.title + "（更新）"
                summary = edit_text(rng, src.summary, 2) if not zh else src.summary
                a = self._new_article(outlet, domain, zh, title=title, summary=summary)
                made.append(a)
                self.stats["reprints"] += 1
                link = f"https://www.{domain}{a.path}"
                items.append(self._item(a, link, guid=f"{domain}-{a.aid}", outlet=outlet))
            else:
                a = self._new_article(outlet, domain, zh)
                made.append(a)
                self.stats["originals"] += 1
                link = f"https://www.{domain}{a.path}"
                items.append(self._item(a, link, guid=f"{domain}-{a.aid}", outlet=outlet))
        earlier.extend(made)
        items.sort(key=lambda it: it["published"], reverse=True)
        return items

    def _item(self, a: Article, link: str, guid: str, outlet: str) -> dict:
        return {
            "title": a.title,
            "link": link,
            "guid": guid,
            "published": a.published,
            "summary_html": summary_html(self.rng, a.summary, outlet, link),
            "category": self.rng.choice(["World", "Asia", "China", "Politics", "Business"]),
            "author": self.rng.choice(["Staff", "Reuters", "AP", "AFP", "Correspondent", None]),
        }


def render_rss(title: str, site: str, language: str, items: list[dict], now: datetime) -> bytes:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "<channel>",
        f"<title>{escape(title)}</title>",
        f"<link>{escape(site)}</link>",
        f"<description>{escape(title)} – latest news</description>",
        f"<language>{language}</language>",
        f"<lastBuildDate>{format_datetime(now)}</lastBuildDate>",
    ]
    for it in items:
        out.append("<item>")
        out.append(f"<title>{escape(it['title'])}</title>")
        out.append(f"<link>{escape(it['link'])}</link>")
        out.append(f'<guid isPermaLink="false">{escape(it["guid"])}</guid>')
        out.append(f"<pubDate>{format_datetime(it['published'])}</pubDate>")
        out.append(f"<category>{it['category']}</category>")
        if it["author"]:
            out.append(f"<dc:creator>{it['author']}</dc:creator>")
        out.append(f"<description>{escape(it['summary_html'])}</description>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out).encode("utf-8")


def render_atom(title: str, site: str, language: str, items: list[dict], now: datetime) -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{language}">',
        f"<title>{escape(title)}</title>",
        f'<link href="{escape(site)}" rel="alternate"/>',
        f"<id>{escape(site)}/atom</id>",
        f"<updated>{now.isoformat()}</updated>",
    ]
    for it in items:
        out.append("<entry>")
        out.append(f"<title>{escape(it['title'])}</title>")
        out.append(f'<link href="{escape(it["link"], {chr(34): "&quot;"})}" rel="alternate"/>')
        out.append(f"<id>{escape(it['guid'])}</id>")
        out.append(f"<published>{it['published'].isoformat()}</published>")
        out.append(f"<updated>{it['published'].isoformat()}</updated>")
        if it["author"]:
            out.append(f"<author><name>{it['author']}</name></author>")
        out.append(f'<category term="{it["category"]}"/>')
        out.append(f'<summary type="html">{escape(it["summary_html"])}</summary>')
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out).encode("utf-8")


@dataclass
class Corpus:
    directory: Path  # holds feeds/ and manifest.json
    feeds: list[dict]  # name, file, outlet, language, format, entries
    manifest: dict

    @property
    def feed_dir(self) -> Path:
        return self.directory / "feeds"

    @property
    def total_entries(self) -> int:
        return self.manifest["entries"]


def build(out: Path, feeds: int, entries: int, seed: int, scenario: str = "standard") -> Corpus:
    """Generate the corpus (or reuse the one already generated today for these parameters)."""
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # GENERATOR_VERSION: bump when a change to corpus.py/text.py changes what a seed produces
    key = f"{scenario}-f{feeds}-e{entries}-s{seed}-{now:%Y%m%d}-g{GENERATOR_VERSION}"
    directory = out / "corpus" / key
    manifest_path = directory / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        return Corpus(directory, manifest["feeds"], manifest)
    (directory / "feeds").mkdir(parents=True, exist_ok=True)
    builder = CorpusBuilder(feeds, entries, seed, now, SCENARIOS[scenario])
    rng = builder.rng
    feed_list = []
    total_bytes = 0
    for i in range(feeds):
        zh = rng.random() < 0.05
        outlet, domain = rng.choice(ZH_OUTLETS if zh else OUTLETS)
        fmt = "rss" if rng.random() < 0.6 else "atom"
        name = f"f{i:05d}"
        items = builder.feed_items(i, outlet, domain, zh)
        language = "zh-cn" if zh else "en"
        site = f"https://www.{domain}/"
        render = render_rss if fmt == "rss" else render_atom
        body = render(f"{outlet} – feed {i}", site, language, items, now)
        filename = f"{name}.{'xml' if fmt == 'rss' else 'atom'}"
        (directory / "feeds" / filename).write_bytes(body)
        total_bytes += len(body)
        feed_list.append(
            {
                "name": name,
                "file": filename,
                "outlet": outlet,
                "language": language,
                "format": fmt,
                "entries": len(items),
                "bytes": len(body),
            }
        )
    manifest = {
        "feeds": feed_list,
        "params": {
            "feeds": feeds,
            "entries": entries,
            "seed": seed,
            "base_time": now.isoformat(),
            "scenario": scenario,
        },
        "entries": feeds * entries,
        "distinct_articles": len(builder.articles),
        "originals": builder.stats["originals"],
        "repeats": builder.stats["repeats"],
        "reprints": builder.stats["reprints"],
        "url_variants": builder.stats["variants"],
        "bytes": total_bytes,
        "formats": {f: sum(1 for x in feed_list if x["format"] == f) for f in ("rss", "atom")},
        "chinese_feeds": sum(1 for x in feed_list if x["language"].startswith("zh")),
    }
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return Corpus(directory, feed_list, manifest)


def write_feeds_yaml(corpus: Corpus, base_url: str, path: Path) -> Path:
    """The newswatch feeds file for the corpus served at base_url."""
    lines = ["# generated by bench/corpus.py", "feeds:"]
    for f in corpus.feeds:
        lines.append(f"  - name: {f['name']}")
        lines.append(f"    url: {base_url}/feeds/{f['file']}")
        lines.append(f"    outlet: {json.dumps(f['outlet'], ensure_ascii=False)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def feed_urls(corpus: Corpus, base_url: str) -> list[str]:
    return [f"{base_url}/feeds/{f['file']}" for f in corpus.feeds]
