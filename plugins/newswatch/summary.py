"""A run's summary: what was polled, loaded, skipped and failed, for the log, the command line
and news.pipeline_runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from . import warehouse
from .stopwatch import add_up


@dataclass
class RunSummary:
    run_id: str
    feeds_polled: int = 0
    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_skipped: int = 0
    feeds_not_due: int = 0
    feeds_disabled: int = 0
    entries_seen: int = 0
    entries_staged: int = 0
    entries_rejected: int = 0
    merge: dict = field(default_factory=dict)
    fulltext: dict = field(default_factory=dict)  # fulltext.FulltextReport, when the step ran
    failures: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    # seconds per stage, summed over the run's polls, and the merge's own
    poll_timings: dict = field(default_factory=dict)

    @property
    def nothing_loaded(self) -> bool:
        """Feeds were polled and not one of them could be loaded, for whatever reason."""
        return self.feeds_polled > 0 and self.feeds_failed == self.feeds_polled

    @property
    def no_feed_reachable(self) -> bool:
        """Every polled feed failed on its own side (network, HTTP, content), none in newswatch."""
        return self.nothing_loaded and all(f.get("error_class") != "internal" for f in self.failures)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["no_feed_reachable"] = self.no_feed_reachable
        data["nothing_loaded"] = self.nothing_loaded
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RunSummary:
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**data)

    def text(self) -> str:
        m = self.merge or {}
        lines = [
            f"newswatch run {self.run_id}",
            f"  feeds:    {self.feeds_polled} polled: {self.feeds_ok} ok, {self.feeds_not_modified} not modified, "
            f"{self.feeds_failed} failed"
            + (f", {self.feeds_skipped} skipped" if self.feeds_skipped else "")
            + (f"  ({self.feeds_not_due} not due yet" if self.feeds_not_due else "")
            + (f"{', ' if self.feeds_not_due else '  ('}{self.feeds_disabled} disabled" if self.feeds_disabled else "")
            + (")" if self.feeds_not_due or self.feeds_disabled else ""),
            f"  entries:  {self.entries_seen} seen, {self.entries_staged} staged, {self.entries_rejected} rejected",
            f"  articles: {m.get('new', 0)} new, {m.get('updated', 0)} updated, {m.get('sightings', 0)} seen again; "
            f"{m.get('relevant', 0)} relevant",
            f"  stories:  {m.get('stories_new', 0)} new, "
            f"{m.get('stories_joined', 0)} articles joined another article's story",
        ]
        if self.fulltext:
            lines.append("  " + self.fulltext["line"])
        if self.poll_timings or m.get("timings"):
            poll = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(self.poll_timings.items(), key=lambda kv: -kv[1]))
            merge_total = sum((m.get("timings") or {}).values())
            lines.append(f"  time:     polls (summed over feeds) {poll or '-'}; merge {merge_total:.1f}s")
        if self.failures:
            lines.append("  failed feeds:")
            for f in self.failures:
                lines.append(f"    - {f['feed_name']}: {f.get('error_class') or 'error'} — {f.get('error') or ''}")
        if self.skipped:
            lines.append("  skipped feeds (polled next run):")
            for f in self.skipped:
                lines.append(f"    - {f['feed_name']}: {f.get('error_class')} — {f.get('error') or ''}")
        if m.get("quarantined"):
            lines.append(
                f"  {m['quarantined']} staged entries could not be loaded and were moved to news.rejects "
                "(reason merge_failed, with the database's error)"
            )
        if m.get("failed"):
            lines.append("  THE MERGE FAILED: staged entries wait for the next merge (see the merge task's log).")
        if self.no_feed_reachable:
            lines.append(f"  NO FEED WAS REACHABLE: all {self.feeds_polled} fetches failed (reasons above).")
        elif self.nothing_loaded:
            lines.append(
                f"  NOTHING LOADED: all {self.feeds_polled} feeds failed, some inside newswatch (see the log)."
            )
        elif self.feeds_polled == 0:
            lines.append("  no feed was due; nothing fetched (force a poll with --force / the DAG's force param)")
        return "\n".join(lines)


def finish(
    dsn: str, run_id: str, merge_result: dict | None, plan: dict | None = None, fulltext: dict | None = None
) -> RunSummary:
    """Sum the run's fetch outcomes and merge into its summary, and keep it in news.pipeline_runs."""
    with warehouse.connection(dsn) as conn:
        outcomes = warehouse.fetch_outcomes(conn, run_id)
        summary = RunSummary(run_id=run_id)
        summary.feeds_polled = len(outcomes)
        for row in outcomes:
            add_up(summary.poll_timings, row.get("timings"))
            summary.entries_seen += row["entries_seen"] or 0
            summary.entries_staged += row["entries_staged"] or 0
            summary.entries_rejected += row["entries_rejected"] or 0
            if row["status"] == "ok":
                summary.feeds_ok += 1
            elif row["status"] == "not_modified":
                summary.feeds_not_modified += 1
            elif row["status"] == "skipped":
                summary.feeds_skipped += 1
                summary.skipped.append({k: row[k] for k in ("feed_name", "error_class", "error")})
            else:
                summary.feeds_failed += 1
                summary.failures.append({k: row[k] for k in ("feed_name", "error_class", "error", "http_status")})
        if plan is not None:
            summary.feeds_not_due = len(plan.get("not_due", []))
            summary.feeds_disabled = len(plan.get("disabled", []))
        summary.merge = dict(merge_result or {})
        summary.fulltext = dict(fulltext or {})
        warehouse.finish_run(conn, run_id, summary.to_dict())
    return summary
