-- Indexes for analysts' questions that the benchmark (1M articles) found slow.

-- "Which outlets carried the story whose headline is ...": headline ILIKE '...%' scanned every
-- story. Trigram indexes serve ILIKE with any pattern. pg_trgm is a trusted extension, so the
-- database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX stories_headline_trgm ON news.stories USING gin (headline gin_trgm_ops);

-- Coverage per UTC day (news.daily_topic_coverage, daily_outlet_coverage, the coverage page):
-- the views group by this expression, and a filter on the day becomes a range scan here.
CREATE INDEX articles_relevant_day ON news.articles (((published_at AT TIME ZONE 'UTC')::date))
    WHERE is_relevant;
