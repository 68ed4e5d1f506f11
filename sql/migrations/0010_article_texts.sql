-- Full text of the articles that matter (fulltext.py). Every attempt to fetch an article's page
-- leaves a row, whatever came of it; the article itself carries its latest extracted body, so
-- its full-text search covers the body.
CREATE TABLE news.article_texts (
    text_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id     bigint NOT NULL REFERENCES news.articles (article_id),
    requested_url  text NOT NULL,
    url            text NOT NULL,               -- the page's final URL, after redirects
    status         text NOT NULL CHECK (status IN ('ok', 'paywalled', 'robots_disallowed', 'not_html',
                                                   'too_large', 'http_error', 'blocked', 'extract_failed')),
    http_status    integer,
    detail         text,                        -- why, for anything but ok
    text           text,
    word_count     integer,
    language       text,
    title          text,
    author         text,
    published_at   timestamptz,                 -- as the page states it
    extractor      text NOT NULL,               -- name and version
    fetched_at     timestamptz NOT NULL DEFAULT now(),
    duration_ms    integer
);
CREATE INDEX article_texts_article ON news.article_texts (article_id, fetched_at DESC);

ALTER TABLE news.articles ADD COLUMN body text;

-- The search vector now covers the body too, weighted so a match in the headline ranks above one
-- in the summary, and both above one deep in the body. Replacing a generated column means
-- dropping it, and the views that read it go with it; clearing schema_views makes this same
-- migrate recreate every view.
ALTER TABLE news.articles DROP COLUMN search CASCADE;
ALTER TABLE news.articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(left(body, 200000), '')), 'C')
) STORED;
CREATE INDEX articles_search ON news.articles USING gin (search);
DELETE FROM news.schema_views;

-- Politeness state per host, shared by every worker: robots.txt as last fetched, and a back-off
-- after 429s and 5xx (plus the last page fetch, for a robots.txt Crawl-delay).
CREATE TABLE news.robots_txt (
    host         text PRIMARY KEY,              -- scheme://host[:port]
    fetched_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    http_status  integer,
    body         text                            -- NULL: allow all (4xx) or disallow all (5xx, unreachable)
);
CREATE TABLE news.page_hosts (
    host           text PRIMARY KEY,
    backoff_until  timestamptz,
    failures       integer NOT NULL DEFAULT 0,
    reason         text,
    last_fetch_at  timestamptz
);
