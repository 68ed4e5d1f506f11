-- newswatch warehouse, first version. Forward-only: never edit a migration once it has been
-- applied anywhere; add the next number instead. The runner records each file's checksum and
-- refuses to start if an applied file has changed.

CREATE SCHEMA IF NOT EXISTS news;

-- Feeds as configured (synced from feeds.yaml each run) plus their polling state.
CREATE TABLE news.feeds (
    feed_id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  text NOT NULL UNIQUE,
    url                   text NOT NULL,             -- where we poll now
    config_url            text NOT NULL,             -- what feeds.yaml says; a change resets url
    outlet                text,
    language              text,
    enabled               boolean NOT NULL DEFAULT true,
    in_config             boolean NOT NULL DEFAULT true,   -- false once removed from feeds.yaml
    -- HTTP validators for conditional GET, and a hash of the last body to skip unchanged 200s
    etag                  text,
    last_modified         text,
    last_body_hash        text,
    -- health
    last_status           text CHECK (last_status IN ('ok', 'not_modified', 'error')),
    last_http_status      integer,
    last_error_class      text,
    last_error            text,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    last_attempt_at       timestamptz,
    last_success_at       timestamptz,
    last_new_entries_at   timestamptz,
    -- scheduling
    poll_interval_seconds integer NOT NULL DEFAULT 3600,
    next_poll_at          timestamptz,
    -- redirects: the stored url moves only after the same permanent redirect repeats
    redirect_url          text,
    redirect_seen_count   integer NOT NULL DEFAULT 0,
    disabled_reason       text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One row per run of the pipeline (Airflow DAG run or `newswatch run`), with its summary.
CREATE TABLE news.pipeline_runs (
    run_id       text PRIMARY KEY,
    trigger      text NOT NULL,             -- 'airflow' | 'cli'
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    summary      jsonb
);

-- One row per fetch attempt.
CREATE TABLE news.fetch_log (
    fetch_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed_name       text NOT NULL,
    run_id          text NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    duration_ms     integer NOT NULL,
    status          text NOT NULL CHECK (status IN ('ok', 'not_modified', 'error')),
    http_status     integer,
    error_class     text,
    error           text,
    url             text NOT NULL,
    final_url       text,
    bytes           integer,
    body_unchanged  boolean NOT NULL DEFAULT false,
    entries_seen    integer NOT NULL DEFAULT 0,
    entries_staged  integer NOT NULL DEFAULT 0,
    entries_rejected integer NOT NULL DEFAULT 0,
    entries_new     integer,                -- set by the merge: new articles from this fetch
    parse_warning   text
);
CREATE INDEX fetch_log_feed_started ON news.fetch_log (feed_name, started_at DESC);
CREATE INDEX fetch_log_run ON news.fetch_log (run_id);

-- Entries parsed and normalised by a fetch, waiting for the merge. A crash between fetch and
-- merge loses nothing: rows stay here (merged_at IS NULL) until a merge commits them.
CREATE TABLE news.staged_entries (
    staged_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fetch_id             bigint NOT NULL REFERENCES news.fetch_log (fetch_id),
    run_id               text NOT NULL,
    feed_name            text NOT NULL,
    position             integer NOT NULL,
    staged_at            timestamptz NOT NULL DEFAULT now(),
    canonical_url        text NOT NULL,
    url                  text NOT NULL,
    guid                 text,
    title                text NOT NULL,
    title_raw            text,
    summary              text NOT NULL DEFAULT '',
    published_at         timestamptz NOT NULL,
    published_at_source  text NOT NULL,
    outlet               text,
    language             text,
    content_hash         text NOT NULL,
    normalizer_version   integer NOT NULL,
    relevance_score      real NOT NULL,
    is_relevant          boolean NOT NULL,
    topics               text[] NOT NULL DEFAULT '{}',
    relevance_terms      jsonb,
    relevance_version    text,
    signature            bytea NOT NULL,           -- MinHash of title + summary (dedupe.py)
    shingle_count        integer NOT NULL,
    title_key            bigint,
    title_dates          text,
    merged_at            timestamptz,
    outcome              text     -- new | updated | sighting | duplicate_in_batch
);
CREATE INDEX staged_entries_pending ON news.staged_entries (staged_id) WHERE merged_at IS NULL;

CREATE TABLE news.stories (
    story_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    headline            text NOT NULL,
    first_article_id    bigint,
    first_seen_at       timestamptz NOT NULL,
    first_published_at  timestamptz,
    first_outlet        text,
    last_seen_at        timestamptz NOT NULL,
    article_count       integer NOT NULL DEFAULT 0,
    outlet_count        integer NOT NULL DEFAULT 0,
    is_relevant         boolean NOT NULL DEFAULT false,
    topics              text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX stories_first_seen ON news.stories (first_seen_at DESC);

CREATE TABLE news.articles (
    article_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    canonical_url        text NOT NULL UNIQUE,
    url                  text NOT NULL,             -- the first raw URL seen
    title                text NOT NULL,
    title_raw            text,
    summary              text NOT NULL DEFAULT '',
    published_at         timestamptz NOT NULL,
    published_at_source  text NOT NULL CHECK (published_at_source IN ('published', 'updated', 'first_seen')),
    first_seen_at        timestamptz NOT NULL,
    last_seen_at         timestamptz NOT NULL,
    updated_at           timestamptz,               -- when the title or summary last changed
    revision             integer NOT NULL DEFAULT 1,
    outlet               text,
    language             text,
    first_feed           text,
    relevance_score      real NOT NULL,
    is_relevant          boolean NOT NULL,
    topics               text[] NOT NULL DEFAULT '{}',
    relevance_terms      jsonb,
    relevance_version    text,
    story_id             bigint REFERENCES news.stories (story_id),
    content_hash         text NOT NULL,
    normalizer_version   integer NOT NULL,
    search               tsvector GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || coalesce(summary, ''))
    ) STORED
);
CREATE INDEX articles_published ON news.articles (published_at DESC);
CREATE INDEX articles_relevant_published ON news.articles (published_at DESC) WHERE is_relevant;
CREATE INDEX articles_topics ON news.articles USING gin (topics);
CREATE INDEX articles_search ON news.articles USING gin (search);
CREATE INDEX articles_story ON news.articles (story_id);
CREATE INDEX articles_outlet_published ON news.articles (outlet, published_at DESC);

-- Every (article, feed) appearance, with the raw URL and GUID as the feed gave them.
CREATE TABLE news.article_sightings (
    sighting_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id     bigint NOT NULL REFERENCES news.articles (article_id),
    feed_name      text NOT NULL,
    url            text NOT NULL,
    guid           text,
    outlet         text,
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    times_seen     integer NOT NULL DEFAULT 1,
    content_hash   text,             -- the text this feed last gave; a change there is a revision
    UNIQUE (article_id, feed_name)
);
CREATE INDEX article_sightings_guid ON news.article_sightings (feed_name, guid) WHERE guid IS NOT NULL;

-- Earlier versions of an article whose title or summary changed.
CREATE TABLE news.article_revisions (
    revision_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id     bigint NOT NULL REFERENCES news.articles (article_id),
    revision       integer NOT NULL,
    title          text NOT NULL,
    summary        text NOT NULL,
    content_hash   text NOT NULL,
    valid_from     timestamptz NOT NULL,
    valid_to       timestamptz NOT NULL,
    feed_name      text,
    UNIQUE (article_id, revision)
);

-- Entries that could not be loaded, with why and the entry as the feed gave it.
CREATE TABLE news.rejects (
    reject_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feed_name    text NOT NULL,
    run_id       text NOT NULL,
    fetch_id     bigint REFERENCES news.fetch_log (fetch_id),
    rejected_at  timestamptz NOT NULL DEFAULT now(),
    reason       text NOT NULL,
    detail       text,
    raw_entry    jsonb NOT NULL
);
CREATE INDEX rejects_feed ON news.rejects (feed_name, rejected_at DESC);

-- Story clustering state (dedupe.py). Fingerprints are kept per article; band keys only for a
-- bounded window (the daily DAG prunes them), so matching a new article costs the same whether
-- the warehouse holds ten thousand articles or ten million.
CREATE TABLE news.article_fingerprints (
    article_id     bigint PRIMARY KEY REFERENCES news.articles (article_id),
    signature      bytea NOT NULL,
    shingle_count  integer NOT NULL,
    title_key      bigint,
    has_summary    boolean NOT NULL,
    title_dates    text
);

CREATE TABLE news.story_bands (
    band_key    bigint NOT NULL,
    article_id  bigint NOT NULL REFERENCES news.articles (article_id),
    story_id    bigint NOT NULL,
    seen_at     timestamptz NOT NULL
);
CREATE INDEX story_bands_key ON news.story_bands (band_key, seen_at);
CREATE INDEX story_bands_seen ON news.story_bands (seen_at);
