-- `newswatch stats`: relevant articles per outlet over the last %(days)s days.
SELECT outlet, count(*) AS articles, count(DISTINCT story_id) AS stories
FROM news.articles
WHERE is_relevant AND published_at > now() - make_interval(days => %(days)s)
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 25;
