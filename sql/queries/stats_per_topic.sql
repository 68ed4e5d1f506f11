-- `newswatch stats`: relevant articles per topic over the last %(days)s days.
SELECT topic, count(*) AS articles, count(DISTINCT story_id) AS stories
FROM news.articles, unnest(topics) AS topic
WHERE is_relevant AND published_at > now() - make_interval(days => %(days)s)
GROUP BY 1
ORDER BY 2 DESC, 1;
