-- Relevant coverage per UTC day and topic: how many articles, how many distinct stories
-- (reprints of one wire story count once) and how many outlets.
CREATE OR REPLACE VIEW news.daily_topic_coverage AS
SELECT (a.published_at AT TIME ZONE 'UTC')::date AS day,
       t.topic,
       count(*)                   AS articles,
       count(DISTINCT a.story_id) AS stories,
       count(DISTINCT a.outlet)   AS outlets
FROM news.articles a
CROSS JOIN LATERAL unnest(a.topics) AS t(topic)
WHERE a.is_relevant
GROUP BY 1, 2;
