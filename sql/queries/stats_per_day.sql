-- `newswatch stats`: articles per publication day (UTC) over the last %(days)s days.
SELECT (published_at AT TIME ZONE 'UTC')::date AS day, count(*) AS articles,
       count(*) FILTER (WHERE is_relevant) AS relevant, count(DISTINCT story_id) AS stories
FROM news.articles
WHERE published_at > now() - make_interval(days => %(days)s)
GROUP BY 1
ORDER BY 1 DESC;
