-- The story page: every article of the story (the first report and its reprints), in the order
-- outlets carried it (published, or first seen when that is earlier), with the outlet's type, the relevance evidence and the latest full-text
-- attempt (its status; the text itself is the article's body).
SELECT a.article_id, a.canonical_url, a.url, a.title, a.summary, a.published_at, a.published_at_source,
       a.first_seen_at, a.last_seen_at, a.outlet, a.language, a.first_feed, a.relevance_score,
       a.is_relevant, a.topics, a.relevance_terms, a.relevance_version, a.revision,
       coalesce(ot.outlet_type, f.outlet_type, 'other') AS outlet_type,
       t.status AS text_status, t.detail AS text_detail, t.word_count AS text_words,
       t.fetched_at AS text_fetched_at, t.url AS text_url,
       a.body
FROM news.articles a
LEFT JOIN news.outlet_types ot ON ot.outlet_key = lower(a.outlet)
LEFT JOIN news.feeds f ON f.name = a.first_feed
LEFT JOIN LATERAL (
    SELECT x.status, x.detail, x.word_count, x.fetched_at, x.url
    FROM news.article_texts x
    WHERE x.article_id = a.article_id
    ORDER BY x.fetched_at DESC
    LIMIT 1
) t ON true
WHERE a.story_id = %(story_id)s
ORDER BY least(a.published_at, a.first_seen_at), a.first_seen_at, a.article_id;
