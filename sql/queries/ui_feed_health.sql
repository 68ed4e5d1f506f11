-- The coverage page's feed table: news.feed_health with the feed's outlet type and its last
-- fetch that was not skipped (the run and the Airflow task that made it, for the task-log link).
SELECT h.name, h.outlet, f.outlet_type, h.url, h.state, h.last_status, h.last_http_status,
       h.last_error_class, h.last_error, h.failure_streak, h.last_attempt_at, h.last_success_at,
       h.next_poll_at, h.poll_interval_minutes, h.redirect_url, h.redirect_seen_count, h.disabled_reason,
       h.fetches_7d, h.errors_7d, h.new_articles_7d, h.relevant_articles_7d,
       l.run_id       AS last_fetch_run_id,
       l.airflow_task AS last_fetch_task,
       l.started_at   AS last_fetch_at,
       l.status       AS last_fetch_status,
       l.http_status  AS last_fetch_http_status
FROM news.feed_health h
JOIN news.feeds f ON f.name = h.name
LEFT JOIN LATERAL (
    SELECT x.run_id, x.airflow_task, x.started_at, x.status, x.http_status
    FROM news.fetch_log x
    WHERE x.feed_name = h.name AND x.status <> 'skipped'
    ORDER BY x.started_at DESC
    LIMIT 1
) l ON true
ORDER BY CASE h.state WHEN 'failing' THEN 0 WHEN 'disabled' THEN 1 WHEN 'redirected' THEN 2
                      WHEN 'never polled' THEN 3 WHEN 'disabled in feeds file' THEN 5 ELSE 4 END,
         h.last_error_class NULLS LAST, h.last_http_status NULLS LAST, h.failure_streak DESC,
         coalesce(h.outlet, h.name), h.name;
