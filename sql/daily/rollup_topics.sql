-- Relevant articles first seen on %(day)s (UTC), per topic.
INSERT INTO news.daily_topic_rollup (day, topic, articles, stories, outlets)
SELECT %(day)s::date, t.topic, count(*), count(DISTINCT a.story_id), count(DISTINCT a.outlet)
FROM news.articles a
CROSS JOIN LATERAL unnest(a.topics) AS t(topic)
WHERE a.is_relevant
  AND a.first_seen_at >= %(start)s AND a.first_seen_at < %(end)s
GROUP BY t.topic;
