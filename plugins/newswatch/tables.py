"""Plain-text tables for the command line (`newswatch feeds health`, `newswatch stats`, the
demo's example queries), aligned in a terminal even with Chinese text."""

from __future__ import annotations


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(names, rows) -> str:
    cells = [[str(v) if v is not None else "" for v in row] for row in rows]
    widths = [max([_width(n)] + [_width(r[i]) for r in cells]) for i, n in enumerate(names)]
    line = "  ".join(_pad(n, w) for n, w in zip(names, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(_pad(v, w) for v, w in zip(r, widths, strict=False)) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
