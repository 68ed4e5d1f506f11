"""Language of a headline: script checks first, then py3langid through its public API.

Same behaviour as normalize.detect_language / normalize_language, with one deliberate change
(marked below): one to three Han characters in otherwise non-CJK text are left out before the
statistical step, so an English headline quoting a Chinese name is no longer tagged 'zh'.

  * any kana -> 'ja'; any hangul -> 'ko'; four or more CJK ideographs (and no kana/hangul) -> 'zh';
  * otherwise py3langid, restricted to LANGUAGES, with probabilities normalised; its answer
    counts only at probability >= MIN_PROBABILITY; text shorter than MIN_CHARS gives None.

py3langid is used only as its README documents it:
    from py3langid.langid import LanguageIdentifier, MODEL_FILE
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([...]); identifier.classify(text) -> (lang, probability)
The model (a few MB) is loaded once, on first use, under a lock.
"""

from __future__ import annotations

import re
import threading

__all__ = ["LANGUAGES", "detect_language", "normalize_language"]

LANGUAGES = (
    "en",
    "zh",
    "es",
    "fr",
    "de",
    "pt",
    "it",
    "ru",
    "ja",
    "ko",
    "ar",
    "hi",
    "id",
    "vi",
    "tr",
    "nl",
    "pl",
    "uk",
    "fa",
    "ur",
    "th",
    "ms",
    "sv",
)
MIN_CHARS = 8
MIN_PROBABILITY = 0.5

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af]")
_PRIMARY_RE = re.compile(r"[a-z]{2,3}")

_identifier = None
_lock = threading.Lock()


def normalize_language(code: str | None) -> str | None:
    """'en-US' -> 'en', 'zh-Hans' / 'zh_cn' -> 'zh'; analysts filter on the primary subtag."""
    if not code or not isinstance(code, str):
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if _PRIMARY_RE.fullmatch(primary) else None


def _get_identifier():
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                identifier.set_languages(list(LANGUAGES))
                _identifier = identifier
    return _identifier


def detect_language(text: str | None) -> str | None:
    """Primary language subtag of `text` ('en', 'zh', 'ja', 'ko', ...), or None when unsure."""
    if not text or not isinstance(text, str) or len(text.strip()) < MIN_CHARS:
        return None
    if _KANA_RE.search(text):
        return "ja"
    if _HANGUL_RE.search(text):
        return "ko"
    ideographs = len(_CJK_RE.findall(text))
    if ideographs >= 4:
        return "zh"
    if ideographs:
        # One to three Han characters in otherwise non-CJK text are a name ("Xi Jinping 习近平
        # meets Biden"), not evidence of Chinese; py3langid weighs them heavily, so leave them out.
        text = _CJK_RE.sub(" ", text)
        if len(text.strip()) < MIN_CHARS:
            return None
    lang, probability = _get_identifier().classify(text)
    return lang if probability >= MIN_PROBABILITY else None
