-- One row per configured feed: is it working, since when not, where does it redirect, what
-- does it yield. `state` says in one word what to look at first.
CREATE OR REPLACE VIEW news.feed_health AS
SELECT f.name,
       f.outlet,
       f.url,
       CASE
           WHEN NOT f.enabled THEN 'disabled in feeds file'
           WHEN f.disabled_reason IS NOT NULL THEN 'disabled'
           WHEN f.last_attempt_at IS NULL THEN 'never polled'
           WHEN f.consecutive_failures > 0 THEN 'failing'
           WHEN f.redirect_url IS NOT NULL THEN 'redirected'
           ELSE 'ok'
       END AS state,
       f.last_status,
       f.last_http_status,
       f.last_error_class,
       f.last_error,
       f.consecutive_failures AS failure_streak,
       f.last_attempt_at,
       f.last_success_at,
       f.last_new_entries_at,
       f.next_poll_at,
       f.poll_interval_seconds / 60 AS poll_interval_minutes,
       f.redirect_url,
       f.redirect_seen_count,
       f.disabled_reason,
       coalesce(y.fetches_7d, 0)      AS fetches_7d,
       coalesce(y.errors_7d, 0)       AS errors_7d,
       coalesce(y.entries_7d, 0)      AS entries_7d,
       coalesce(y.new_articles_7d, 0) AS new_articles_7d,
       coalesce(r.relevant_7d, 0)     AS relevant_articles_7d
FROM news.feeds f
LEFT JOIN (
    SELECT feed_name,
           count(*)                                  AS fetches_7d,
           count(*) FILTER (WHERE status = 'error')  AS errors_7d,
           sum(entries_seen)                         AS entries_7d,
           sum(coalesce(entries_new, 0))             AS new_articles_7d
    FROM news.fetch_log
    WHERE started_at > now() - interval '7 days'
    GROUP BY feed_name
) y ON y.feed_name = f.name
LEFT JOIN (
    SELECT first_feed AS feed_name, count(*) AS relevant_7d
    FROM news.articles
    WHERE is_relevant AND first_seen_at > now() - interval '7 days'
    GROUP BY first_feed
) r ON r.feed_name = f.name
WHERE f.in_config;
