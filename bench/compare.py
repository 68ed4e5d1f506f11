"""`python -m bench.compare OUT [OUT ...]`: the scenarios side by side, from each run's
results.json (written by `python -m bench --scenario ... --out OUT`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .report import table

CONTENDERS = (
    ("core_first", "newswatch core, first poll"),
    ("reader_first", "reader, first update"),
    ("naive_first", "naive loader"),
    ("airflow_first", "newswatch through Airflow"),
)


def main(argv: list[str] | None = None) -> int:
    outs = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    runs = [json.loads((out / "results.json").read_text()) for out in outs if (out / "results.json").exists()]
    if not runs:
        print("bench.compare: no results.json in " + ", ".join(map(str, outs)))
        return 1
    header = [
        "",
        *(
            f"{r['corpus'].get('scenario', 'standard')}: {r['corpus']['feeds']:,} feeds, "
            f"{r['corpus']['entries']:,} entries"
            for r in runs
        ),
    ]
    rows = []
    for label, name in CONTENDERS:
        cells = []
        for r in runs:
            e = r["derived"]["end_to_end"].get(label) or {}
            cells.append(
                f"{e['entries_per_s']:,.0f} entries/s ({e['seconds']:.1f} s)" if e.get("entries_per_s") else "-"
            )
        rows.append([name, *cells])
    copy_rows = []
    for r in runs:
        copy = (r["runs"].get("copy_floor") or {}).get("result") or {}
        seconds = copy.get("seconds")
        copy_rows.append(f"{r['corpus']['entries'] / seconds:,.0f} rows/s ({seconds:.1f} s)" if seconds else "-")
    rows.append(["COPY floor (same rows, indexed tables)", *copy_rows])
    fulltext = [r["derived"].get("fulltext") or {} for r in runs]
    rows.append(
        [
            "full text (pages, work s; standard only)",
            *(
                f"{f['pages']:,} pages: {f['seconds']:.1f} s ({f['pages_per_s']:.1f} pages/s)"
                if f.get("seconds") is not None
                else "-"
                for f in fulltext
            ),
        ]
    )
    rows.append(
        [
            "re-poll alone / during full text (≤ 10 s)",
            *(
                f"{f['repoll_alone_s']:.2f} s / {f['repoll_during_s']:.2f} s"
                if f.get("repoll_during_s") is not None and f.get("repoll_alone_s") is not None
                else "-"
                for f in fulltext
            ),
        ]
    )
    ratio = [r["derived"]["ratios"].get("core_vs_reader_entries_per_s") for r in runs]
    rows.append(
        ["core ÷ reader (target ≥ 2×)", *(f"{v:.2f}× {'PASS' if v >= 2 else 'MISS'}" if v else "-" for v in ratio)]
    )
    print(table(header, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
