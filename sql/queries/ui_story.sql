-- The story page's header: one story and its reach.
SELECT s.story_id, s.headline, s.first_article_id, s.first_seen_at, s.first_published_at, s.first_outlet,
       s.last_seen_at, s.article_count, s.outlet_count, s.is_relevant, s.topics
FROM news.stories s
WHERE s.story_id = %(story_id)s;
