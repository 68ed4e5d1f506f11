-- Article identity as data, a merge that quarantines what it cannot load, and feed outcomes
-- that are neither success nor failure.

-- Every name an article was ever known by: its URLs (canonical form; a URL names one article
-- for good) and the (feed, GUID) pairs feeds gave it. The merge looks articles up here, so a
-- link that changed under a GUID is remembered across batches and feeds, and a GUID a feed
-- later recycled for another story keeps naming the first one too (the merge takes the most
-- recent, and only when the text agrees).
CREATE TABLE news.article_aliases (
    kind          text NOT NULL CHECK (kind IN ('url', 'guid')),
    feed_name     text NOT NULL DEFAULT '',     -- the feed that gave a GUID; '' for a URL
    value         text NOT NULL,
    article_id    bigint NOT NULL REFERENCES news.articles (article_id),
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX article_aliases_url ON news.article_aliases (value) WHERE kind = 'url';
CREATE UNIQUE INDEX article_aliases_guid ON news.article_aliases (feed_name, value, article_id) WHERE kind = 'guid';
CREATE INDEX article_aliases_article ON news.article_aliases (article_id);

INSERT INTO news.article_aliases (kind, feed_name, value, article_id, first_seen_at, last_seen_at)
SELECT 'url', '', canonical_url, article_id, first_seen_at, last_seen_at FROM news.articles;
INSERT INTO news.article_aliases (kind, feed_name, value, article_id, first_seen_at, last_seen_at)
SELECT 'guid', feed_name, guid, article_id, min(first_seen_at), max(last_seen_at)
FROM news.article_sightings
WHERE guid IS NOT NULL AND octet_length(guid) <= 2000   -- longer ones could not be indexed
GROUP BY feed_name, guid, article_id;

-- The feed whose text an article carries: only that feed's edits revise it (another feed's
-- text replaces it only when clearly fuller).
ALTER TABLE news.articles ADD COLUMN text_feed text;
UPDATE news.articles SET text_feed = first_feed;

-- Feeds caught giving an old GUID to a different story.
ALTER TABLE news.feeds ADD COLUMN guid_reuse_count integer NOT NULL DEFAULT 0;
ALTER TABLE news.feeds ADD COLUMN guid_reuse_seen_at timestamptz;

-- A staged entry the merge could not load is marked failed (outcome 'failed', merged_at set, so
-- it never blocks newer rows) and kept in news.rejects with the database's error.
ALTER TABLE news.staged_entries ADD COLUMN merge_error text;
ALTER TABLE news.rejects ADD COLUMN staged_id bigint;
CREATE INDEX staged_entries_failed ON news.staged_entries (merged_at) WHERE outcome = 'failed';

-- 'skipped': the feed was not fetched this time, through no fault of its own (another run was
-- polling it, or its host's fetch slots stayed busy); its state is left for the next run.
ALTER TABLE news.fetch_log DROP CONSTRAINT fetch_log_status_check;
ALTER TABLE news.fetch_log ADD CONSTRAINT fetch_log_status_check
    CHECK (status IN ('ok', 'not_modified', 'error', 'skipped'));
