-- Relevant coverage of US–China relations, newest first, with topics and the story it belongs to.
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
       a.relevance_terms
FROM news.articles a
LEFT JOIN news.stories s ON s.story_id = a.story_id
WHERE a.is_relevant
ORDER BY a.published_at DESC;
