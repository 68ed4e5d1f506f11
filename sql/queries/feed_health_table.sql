-- `newswatch feeds health`: one line per feed, failing feeds first.
SELECT name, state, failure_streak AS fails, last_error_class AS error,
       to_char(last_success_at, 'YYYY-MM-DD HH24:MI') AS last_success,
       to_char(next_poll_at, 'MM-DD HH24:MI') AS next_poll, poll_interval_minutes AS every_min,
       entries_7d, new_articles_7d AS new_7d, relevant_articles_7d AS relevant_7d,
       coalesce(redirect_url, disabled_reason) AS note
FROM news.feed_health
ORDER BY state <> 'ok', name;
