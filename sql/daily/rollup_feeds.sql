-- Fetch attempts on %(day)s (UTC), per feed.
INSERT INTO news.daily_feed_rollup (day, feed_name, fetches, ok, not_modified, errors, entries_seen, entries_new)
SELECT %(day)s::date, l.feed_name, count(*),
       count(*) FILTER (WHERE l.status = 'ok'),
       count(*) FILTER (WHERE l.status = 'not_modified'),
       count(*) FILTER (WHERE l.status = 'error'),
       coalesce(sum(l.entries_seen), 0), coalesce(sum(l.entries_new), 0)
FROM news.fetch_log l
WHERE l.started_at >= %(start)s AND l.started_at < %(end)s
GROUP BY l.feed_name;
