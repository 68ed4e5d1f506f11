-- The coverage page: relevant stories seen since %(since)s, widest reach first.
SELECT s.story_id, s.headline, s.first_outlet, s.outlet_count, s.article_count, s.topics,
       s.first_seen_at,
       (SELECT a.canonical_url FROM news.articles a WHERE a.article_id = s.first_article_id) AS url,
       ARRAY(SELECT DISTINCT a.outlet FROM news.articles a
              WHERE a.story_id = s.story_id AND a.outlet IS NOT NULL ORDER BY a.outlet) AS outlets
FROM news.stories s
WHERE s.is_relevant AND s.last_seen_at >= %(since)s
ORDER BY s.outlet_count DESC, s.article_count DESC, s.first_seen_at DESC
LIMIT %(limit)s;
