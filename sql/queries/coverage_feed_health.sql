-- The coverage page's feed table: what to look at first comes first.
SELECT name, outlet, state, last_success_at, failure_streak, last_error_class, last_error,
       next_poll_at, redirect_url, disabled_reason, new_articles_7d, relevant_articles_7d
FROM news.feed_health
ORDER BY CASE state WHEN 'failing' THEN 0 WHEN 'disabled' THEN 1 WHEN 'redirected' THEN 2
                    WHEN 'never polled' THEN 3 ELSE 4 END,
         failure_streak DESC, name;
