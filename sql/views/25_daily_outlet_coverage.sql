-- Relevant coverage per UTC day and outlet.
CREATE OR REPLACE VIEW news.daily_outlet_coverage AS
SELECT (a.published_at AT TIME ZONE 'UTC')::date AS day,
       a.outlet,
       count(*)                   AS articles,
       count(DISTINCT a.story_id) AS stories
FROM news.articles a
WHERE a.is_relevant
GROUP BY 1, 2;
