-- The article list's empty state: the newest relevant article, so an empty window can say when
-- coverage was last seen.
SELECT max(published_at) AS latest_published_at, max(first_seen_at) AS latest_first_seen_at
FROM news.articles
WHERE is_relevant;
