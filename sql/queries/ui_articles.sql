-- The article list (HTML, JSON and CSV alike): articles matching the filters, a page of them,
-- and how many match in all. A filter whose parameter is NULL does not apply. With a search
-- (%(q)s, websearch syntax: words, "a phrase", -not, or; Chinese too: news.search_query) the
-- best matches come first (title above summary above body), else the newest. Always one row: `total`, with the page's columns
-- NULL when the page is empty.
WITH query AS (
    SELECT CASE WHEN %(q)s::text IS NULL THEN NULL
                ELSE news.search_query(%(q)s::text) END AS tsq
),
matching AS MATERIALIZED (
    SELECT a.article_id, a.published_at,
           coalesce(ot.outlet_type, f.outlet_type, 'other') AS outlet_type,
           CASE WHEN query.tsq IS NULL THEN NULL ELSE ts_rank(a.search, query.tsq) END AS rank
    FROM news.articles a
    CROSS JOIN query
    LEFT JOIN news.outlet_types ot ON ot.outlet_key = lower(a.outlet)
    LEFT JOIN news.feeds f ON f.name = a.first_feed
    WHERE (NOT %(relevant_only)s OR a.is_relevant)
      AND (%(since)s::timestamptz IS NULL OR a.published_at >= %(since)s::timestamptz)
      AND (%(until)s::timestamptz IS NULL OR a.published_at < %(until)s::timestamptz)
      AND (%(topic)s::text IS NULL OR a.topics @> ARRAY[%(topic)s::text])
      AND (%(outlet)s::text IS NULL OR a.outlet = %(outlet)s::text)
      AND (%(outlet_type)s::text IS NULL
           OR coalesce(ot.outlet_type, f.outlet_type, 'other') = %(outlet_type)s::text)
      AND (%(language)s::text IS NULL OR a.language = %(language)s::text
           OR a.language LIKE %(language)s::text || '-%%')
      AND (query.tsq IS NULL OR a.search @@ query.tsq)
),
page AS (
    SELECT m.article_id, m.outlet_type, m.rank
    FROM matching m
    ORDER BY m.rank DESC NULLS LAST, m.published_at DESC, m.article_id DESC
    LIMIT %(limit)s OFFSET %(offset)s
)
SELECT total.n AS total,
       a.article_id, a.published_at, a.first_seen_at, a.outlet, p.outlet_type, a.language, a.title,
       a.summary, a.topics, a.relevance_score, a.is_relevant, a.story_id,
       s.outlet_count AS story_outlets, s.article_count AS story_articles, a.canonical_url, p.rank,
       t.status AS text_status
FROM (SELECT count(*) AS n FROM matching) total
LEFT JOIN page p ON true
LEFT JOIN news.articles a ON a.article_id = p.article_id
LEFT JOIN news.stories s ON s.story_id = a.story_id
LEFT JOIN LATERAL (
    SELECT x.status FROM news.article_texts x
    WHERE x.article_id = a.article_id
    ORDER BY x.fetched_at DESC
    LIMIT 1
) t ON true
ORDER BY p.rank DESC NULLS LAST, a.published_at DESC, a.article_id DESC;
