-- The figures the data-quality checks judge, for the UTC day [%(start)s, %(end)s).
SELECT
    -- feeds expected to work (enabled, configured before the day ended) without one successful
    -- fetch in the 24 hours before the day's end. Successful means the feed answered (a body or a
    -- 304): a 'skipped' fetch (another poll held the feed, or its host's slots stayed busy) never
    -- reached it, so a day of nothing but skips says nothing about the feed being alive.
    (SELECT coalesce(array_agg(f.name ORDER BY f.name), '{}')
       FROM news.feeds f
      WHERE f.enabled AND f.in_config AND f.disabled_reason IS NULL AND f.created_at < %(end)s
        AND NOT EXISTS (SELECT 1 FROM news.fetch_log l
                         WHERE l.feed_name = f.name AND l.status IN ('ok', 'not_modified')
                           AND l.started_at >= %(end)s - interval '24 hours' AND l.started_at < %(end)s)
    ) AS stale_feeds,
    (SELECT count(*) FROM news.feeds f
      WHERE f.enabled AND f.in_config AND f.disabled_reason IS NULL AND f.created_at < %(end)s) AS active_feeds,
    (SELECT count(*) FROM news.fetch_log
      WHERE started_at >= %(start)s AND started_at < %(end)s) AS fetches,
    (SELECT count(*) FROM news.articles
      WHERE is_relevant AND first_seen_at >= %(start)s AND first_seen_at < %(end)s) AS relevant_articles,
    (SELECT count(*) FROM news.articles
      WHERE first_seen_at >= %(start)s AND first_seen_at < %(end)s) AS new_articles,
    -- entries staged by the day's fetches and already merged, and how many of them were already
    -- known (fetch_log keeps these counts for good, so a backfill of any day sees them)
    (SELECT coalesce(sum(entries_staged), 0) FROM news.fetch_log
      WHERE started_at >= %(start)s AND started_at < %(end)s AND entries_new IS NOT NULL) AS merged_entries,
    (SELECT coalesce(sum(entries_staged - entries_new), 0) FROM news.fetch_log
      WHERE started_at >= %(start)s AND started_at < %(end)s AND entries_new IS NOT NULL) AS duplicate_entries,
    -- staged entries the merge could not load that day: counted in news.rejects, which keeps
    -- them for good (retention deletes merged staged_entries, so a re-run would see none there)
    (SELECT count(*) FROM news.rejects
      WHERE reason = 'merge_failed' AND rejected_at >= %(start)s AND rejected_at < %(end)s) AS failed_entries,
    -- publish -> ingest lag, in hours, for articles whose feed gave a publication time
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_seen_at - published_at) / 3600)
       FROM news.articles
      WHERE first_seen_at >= %(start)s AND first_seen_at < %(end)s
        AND published_at_source = 'published' AND published_at <= first_seen_at) AS lag_median_hours,
    (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_seen_at - published_at) / 3600)
       FROM news.articles
      WHERE first_seen_at >= %(start)s AND first_seen_at < %(end)s
        AND published_at_source = 'published' AND published_at <= first_seen_at) AS lag_p90_hours;
