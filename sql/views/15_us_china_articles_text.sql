-- Relevant articles with their full text where it was fetched: the latest attempt's status
-- ('ok', 'paywalled', 'robots_disallowed', ...), the page's final URL and the body.
-- e.g.  SELECT published_at, outlet, title, text_status, left(body, 300)
--       FROM news.us_china_articles_text WHERE search @@ news.search_query('MOFCOM gallium');
CREATE OR REPLACE VIEW news.us_china_articles_text AS
SELECT a.article_id,
       a.published_at,
       a.outlet,
       a.language,
       a.title,
       a.summary,
       a.topics,
       a.canonical_url,
       a.story_id,
       t.status      AS text_status,
       t.url         AS text_url,
       t.word_count,
       t.language    AS text_language,
       t.fetched_at  AS text_fetched_at,
       t.detail      AS text_detail,
       a.body,
       a.search
FROM news.articles a
LEFT JOIN LATERAL (
    SELECT status, url, word_count, language, fetched_at, detail
    FROM news.article_texts x
    WHERE x.article_id = a.article_id
    ORDER BY x.fetched_at DESC
    LIMIT 1
) t ON true
WHERE a.is_relevant
ORDER BY a.published_at DESC;
