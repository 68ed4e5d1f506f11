-- Which outlets carried each story, and when: one row per story and outlet.
-- e.g. "which outlets carried the AP story":
--   SELECT outlet, first_seen_at FROM news.story_reach WHERE headline ILIKE '%Blinken set to meet%';
CREATE OR REPLACE VIEW news.story_reach AS
SELECT s.story_id,
       s.headline,
       s.article_count,
       s.outlet_count,
       s.is_relevant,
       s.topics,
       s.first_outlet,
       a.outlet,
       min(a.first_seen_at) AS first_seen_at,
       min(a.published_at)  AS first_published_at,
       count(*)             AS articles,
       array_agg(a.canonical_url ORDER BY a.first_seen_at) AS urls
FROM news.stories s
JOIN news.articles a ON a.story_id = s.story_id
GROUP BY s.story_id, a.outlet;
