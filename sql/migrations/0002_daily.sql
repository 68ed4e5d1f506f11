-- The daily DAG (us_china_news_daily): per-day rollups, data-quality results and digests.
-- Each row belongs to one UTC day; the DAG deletes and recomputes a day in one transaction, so a
-- re-run or backfill of a past day gives exactly that day's figures.

CREATE TABLE news.daily_topic_rollup (
    day          date NOT NULL,
    topic        text NOT NULL,
    articles     integer NOT NULL,
    stories      integer NOT NULL,
    outlets      integer NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, topic)
);

CREATE TABLE news.daily_outlet_rollup (
    day          date NOT NULL,
    outlet       text NOT NULL,             -- '(unknown)' when an article has none
    articles     integer NOT NULL,
    relevant     integer NOT NULL,
    stories      integer NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, outlet)
);

CREATE TABLE news.daily_feed_rollup (
    day           date NOT NULL,
    feed_name     text NOT NULL,
    fetches       integer NOT NULL,
    ok            integer NOT NULL,
    not_modified  integer NOT NULL,
    errors        integer NOT NULL,
    entries_seen  integer NOT NULL,
    entries_new   integer NOT NULL,
    computed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, feed_name)
);

CREATE TABLE news.quality_checks (
    day         date NOT NULL,
    check_name  text NOT NULL,
    passed      boolean NOT NULL,
    value       double precision,
    threshold   text,
    detail      text,
    checked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, check_name)
);

CREATE TABLE news.digests (
    day         date PRIMARY KEY,
    stories     integer NOT NULL,
    markdown    text NOT NULL,
    html        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The daily queries select by ingest time.
CREATE INDEX articles_first_seen ON news.articles (first_seen_at);
CREATE INDEX staged_entries_merged_at ON news.staged_entries (merged_at) WHERE merged_at IS NOT NULL;
