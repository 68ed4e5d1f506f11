-- The story page: where the story's articles were seen, feed by feed (a Google News pointer or
-- a second section feed of the same outlet is a sighting of an article, not an article).
SELECT s.feed_name, f.outlet AS feed_outlet, s.article_id, a.outlet, s.url, s.guid,
       s.first_seen_at, s.last_seen_at, s.times_seen
FROM news.article_sightings s
JOIN news.articles a ON a.article_id = s.article_id
LEFT JOIN news.feeds f ON f.name = s.feed_name
WHERE a.story_id = %(story_id)s
ORDER BY s.first_seen_at, s.feed_name, s.article_id;
