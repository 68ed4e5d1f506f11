-- Relevant coverage of US–China relations, newest first, with topics, the kind of outlet
-- (config/outlets.yaml, else the feed's outlet_type) and the story it belongs to.
-- e.g.  SELECT published_at, outlet, title FROM news.us_china_articles
--       WHERE 'technology' = ANY(topics) AND published_at > now() - interval '7 days';
CREATE OR REPLACE VIEW news.us_china_articles AS
SELECT a.article_id,
       a.published_at,
       a.outlet,
       a.language,
       a.title,
       a.summary,
       a.topics,
       a.relevance_score,
       a.canonical_url,
       a.story_id,
       s.article_count AS story_articles,
       s.outlet_count  AS story_outlets,
       a.first_seen_at,
       a.relevance_terms,
       -- new columns go last: CREATE OR REPLACE VIEW can only add columns at the end
       coalesce(ot.outlet_type, f.outlet_type, 'other') AS outlet_type
FROM news.articles a
LEFT JOIN news.stories s ON s.story_id = a.story_id
LEFT JOIN news.outlet_types ot ON ot.outlet_key = lower(a.outlet)
LEFT JOIN news.feeds f ON f.name = a.first_feed
WHERE a.is_relevant
ORDER BY a.published_at DESC;
