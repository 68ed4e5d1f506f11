"""Synthetic news text: headlines and summaries that look like the feeds newswatch polls.

Shared by the feed corpus (corpus.py) and the warehouse seeding (growth.py), so both exercise
the same code paths in the pipeline: about 40% of the headlines are US–China relations coverage
built from the terms the relevance rules look for (actors, capitals, measures, topics), the
rest are the near misses the rules must reject (China-only, US-only, sport, markets, third
countries). Everything is drawn from a `random.Random` so a seed reproduces the corpus.
"""

from __future__ import annotations

import random
from pathlib import Path

US_ACTORS = [
    "Blinken",
    "Rubio",
    "Biden",
    "Trump",
    "Yellen",
    "Bessent",
    "Raimondo",
    "Lutnick",
    "Jake Sullivan",
    "Lloyd Austin",
    "Hegseth",
    "Katherine Tai",
    "Jamieson Greer",
    "Kurt Campbell",
]
US_PLACES = [
    "Washington",
    "the United States",
    "the White House",
    "the State Department",
    "the Pentagon",
    "the Commerce Department",
    "U.S. officials",
    "American diplomats",
]
CN_ACTORS = [
    "Wang Yi",
    "Xi Jinping",
    "Li Qiang",
    "He Lifeng",
    "Dong Jun",
    "Qin Gang",
    "Xie Feng",
    "Wang Wentao",
    "Lin Jian",
    "Mao Ning",
]
CN_PLACES = [
    "Beijing",
    "China",
    "Chinese officials",
    "the Chinese foreign ministry",
    "Zhongnanhai",
    "the PLA",
    "China's commerce ministry",
]
MEASURES = [
    "tariffs",
    "export controls",
    "sanctions",
    "an entity list",
    "visa restrictions",
    "an investment ban",
    "chip export rules",
    "port fees",
    "retaliatory duties",
    "a rare earths export ban",
    "an indictment",
]
TOPICS = [
    "semiconductors",
    "the Taiwan Strait",
    "fentanyl precursors",
    "the South China Sea",
    "rare earths",
    "TikTok",
    "climate cooperation",
    "detained Americans",
    "student visas",
    "military hotlines",
    "cyber espionage",
    "Hong Kong",
    "Xinjiang cotton",
    "soybeans",
    "Russia's war in Ukraine",
    "AI chips",
    "critical minerals",
    "journalist visas",
]
VERBS_MEET = ["meets", "to meet", "holds talks with", "calls", "hosts", "sits down with"]

TEAMS = [
    "Lakers",
    "Celtics",
    "Warriors",
    "Shanghai Sharks",
    "Beijing Ducks",
    "Guangzhou FC",
    "Real Madrid",
    "Arsenal",
    "Yankees",
    "Dodgers",
]
COMPANIES = [
    "Apple",
    "Nvidia",
    "Tesla",
    "Alibaba",
    "Tencent",
    "BYD",
    "Huawei",
    "Boeing",
    "Xiaomi",
    "Ford",
    "Microsoft",
    "Pinduoduo",
    "JD.com",
    "Intel",
]
THIRD = [
    "Japan",
    "South Korea",
    "India",
    "Australia",
    "the Philippines",
    "Vietnam",
    "Germany",
    "France",
    "Brazil",
    "Indonesia",
    "Pakistan",
    "Kenya",
    "Mexico",
    "Canada",
]
DOMESTIC_CN = [
    "factory output",
    "retail sales",
    "property investment",
    "youth unemployment",
    "exports",
    "the yuan",
    "local government debt",
    "birth rates",
]
DOMESTIC_US = [
    "the Senate",
    "the Federal Reserve",
    "the Supreme Court",
    "California",
    "Texas",
    "the jobs report",
    "inflation",
    "the midterm campaign",
]


ZH_TITLES = [
    "中美外长在{city}会晤 讨论{topic}问题",
    "外交部回应美方对华{measure}措施",
    "{cn}会见美国{us} 双方就中美关系交换意见",
    "商务部：坚决反对美方滥用出口管制",
    "中美经贸磋商在{city}举行",
    "国家统计局发布{month}份经济数据",
    "{city}举办国际旅游节 吸引大批游客",
]
ZH_TOPICS = ["台湾", "芬太尼", "关税", "南海", "芯片", "稀土", "气候变化", "留学生签证"]
ZH_MEASURES = ["关税", "出口管制", "制裁", "签证限制"]
ZH_SENTENCES = [
    "双方就共同关心的国际和地区问题深入交换了意见。",
    "外交部发言人在例行记者会上回答了记者提问。",
    "中方敦促美方停止错误做法，以实际行动维护两国关系稳定。",
    "分析人士认为，此举将对全球供应链产生深远影响。",
    "会谈是坦诚、深入、建设性的。",
    "有关部门表示将继续密切关注事态发展。",
    "据报道，相关准备工作已经持续了一段时间。",
    "专家指出，两国在多个领域仍有广泛合作空间。",
]


_VOCAB_PATH = Path(__file__).with_name("vocab.txt")


def load_vocab() -> tuple[list[str], list[float]]:
    """(words, cumulative weights) of bench/vocab.txt (see bench/build_vocab.py)."""
    words, cum, total = [], [], 0
    for line in _VOCAB_PATH.read_text(encoding="utf-8").splitlines():
        word, count = line.rsplit(" ", 1)
        total += int(count)
        words.append(word)
        cum.append(total)
    return words, cum


# Frequent Chinese characters: background text for the Chinese feeds (each CJK character is a
# token for the shingles, so a few fixed sentences would make every Chinese article a reprint
# of every other).
ZH_CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过"
    "子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体"
    "制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内"
    "数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提"
    "直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计"
    "别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海"
    "口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己再采转更单风切打白教速花带安场身车"
    "例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记"
    "需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省"
    "列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼"
    "王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞"
)


class TextMaker:
    """Headlines and summaries from a seeded generator.

    Background words are drawn independently with the frequencies of real feed text
    (vocab.txt), so two unrelated synthetic articles share about as many 3-word shingles as
    two real ones — what story clustering's candidate search is sensitive to. The words that
    decide relevance are then put in on purpose: a relations story gets a US term, a China
    term and a measure or topic; a near miss gets one side, or the context of sport, markets
    or a third country.
    """

    def __init__(self, rng: random.Random, common_words: int | None = None):
        self.rng = rng
        self.words, self.cum = load_vocab()
        if common_words:  # the "syndicated" scenario: text made of a small, common vocabulary
            self.words, self.cum = self.words[:common_words], self.cum[:common_words]

    def _background(self, n: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum, k=n)

    def _insert(self, words: list[str], terms: list[str]) -> list[str]:
        for term in terms:
            words.insert(self.rng.randrange(len(words) + 1), term)
        return words

    # --- headlines ---------------------------------------------------------------------------
    def headline(self) -> tuple[str, bool]:
        """(headline, meant_relevant). ~40% relations coverage, the rest near misses."""
        r = self.rng
        c = r.choice
        relevant = r.random() < 0.40
        if relevant:
            form = r.random()
            if form < 0.4:
                terms = [c(US_ACTORS), c(CN_PLACES), c(MEASURES)]
            elif form < 0.7:
                terms = ["US-China", c(TOPICS)]
            else:
                terms = [c(US_PLACES), c(CN_ACTORS), c(VERBS_MEET), c(TOPICS)]
        else:
            form = r.random()
            if form < 0.3:
                terms = [c(CN_PLACES), c(DOMESTIC_CN)]  # China only
            elif form < 0.5:
                terms = [c(DOMESTIC_US)]  # US only
            elif form < 0.7:
                terms = [c(TEAMS), c(["season", "final", "league", "match"])]  # sport
            elif form < 0.85:
                terms = [c(COMPANIES), c(["shares", "earnings", "stocks"])]  # markets
            else:
                terms = [c(THIRD), c(THIRD), "talks"]  # third countries
        words = self._insert(self._background(r.randint(5, 10)), terms)
        title = " ".join(words)
        return title[0].upper() + title[1:], relevant

    def zh_headline(self) -> tuple[str, bool]:
        c = self.rng.choice
        form = c(ZH_TITLES)
        title = form.format(
            city=c(["北京", "华盛顿", "日内瓦", "新加坡"]),
            topic=c(ZH_TOPICS),
            measure=c(ZH_MEASURES),
            cn=c(["王毅", "李强", "何立峰"]),
            us=c(["国务卿", "财长", "商务部长"]),
            month=c(["一月", "三月", "九月"]),
        )
        # background characters make headlines of one form distinct texts, as real ones are
        return title + "，" + "".join(self.rng.choices(ZH_CHARS, k=8)), "中美" in form

    # --- summaries ---------------------------------------------------------------------------
    def summary_words(self, lo: int = 50, hi: int = 150, relevant: bool = True) -> str:
        """Plain-text summary of lo..hi words in sentences of 8–25 words; a relations story
        mentions both sides and a topic again, a near miss does not."""
        r = self.rng
        target = r.randint(lo, hi)
        words = self._background(target)
        if relevant:
            terms = [r.choice(US_ACTORS + US_PLACES), r.choice(CN_ACTORS + CN_PLACES), r.choice(TOPICS)]
            words = self._insert(words, terms)[: target + len(terms)]
        out, i = [], 0
        while i < len(words):
            n = r.randint(8, 25)
            sentence = " ".join(words[i : i + n])
            out.append(sentence[0].upper() + sentence[1:] + ".")
            i += n
        return " ".join(out)

    def zh_summary(self) -> str:
        """80–250 characters: one stock sentence of the genre, then background characters."""
        r = self.rng
        chars = r.choices(ZH_CHARS, k=r.randint(80, 250))
        sentences = ("".join(chars[i : i + 20]) + "。" for i in range(0, len(chars), 20))
        return r.choice(ZH_SENTENCES) + "".join(sentences)

    def slug(self, title: str, limit: int = 8) -> str:
        words = [w.strip(".,:;'\"!?()").lower() for w in title.split()[:limit]]
        return "-".join(w for w in words if w and w.isascii() and w.replace("-", "").isalnum()) or "story"


def edit_text(rng: random.Random, text: str, edits: int = 2) -> str:
    """A reprint's small edits: a few words swapped or dropped, maybe the last sentence cut."""
    words = text.split()
    if len(words) < 6:
        return text + " (updated)"
    for _ in range(edits):
        i = rng.randrange(len(words))
        if rng.random() < 0.5:
            words[i] = rng.choice(["reportedly", "also", "on Monday", "again", "officially", "said"])
        elif len(words) > 6:
            del words[i]
    out = " ".join(words)
    if rng.random() < 0.4 and out.count(". ") >= 2:
        out = out.rsplit(". ", 1)[0] + "."
    return out
