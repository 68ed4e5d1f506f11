-- Chinese and Japanese text becomes searchable (Han characters and kana; Korean separates words
-- with spaces and needs nothing). PostgreSQL's parser reads a run of CJK characters
-- between punctuation as one word, so '台湾' never matched '坚决反对美国向台湾地区出售武器'. The
-- search vector now indexes such runs as overlapping character pairs (bigrams, the usual way to
-- search unsegmented text without a segmenter extension), and a query goes through the same
-- rewriting: news.search_query('台湾') matches, and a quoted "美国向台湾" matches only that
-- sequence. Text without CJK characters is indexed exactly as before.

CREATE OR REPLACE FUNCTION news.search_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT CASE WHEN t !~ '[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]' THEN t ELSE (
        SELECT string_agg(
                   CASE WHEN r.m[1] IS NULL THEN r.m[2]
                        ELSE ' ' || (SELECT string_agg(substr(r.m[1], i, 2), ' ' ORDER BY i)
                                     FROM generate_series(1, greatest(length(r.m[1]) - 1, 1)) AS i) || ' '
                   END, '' ORDER BY r.n)
        FROM regexp_matches(t, '([\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+)|([^\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]+)', 'g')
             WITH ORDINALITY AS r(m, n)
    ) END
$$;
COMMENT ON FUNCTION news.search_text(text) IS
    'Text as the search vector indexes it: CJK runs as overlapping character pairs, the rest as is.';

-- What analysts and the pages search with: websearch syntax (words, "a phrase", -not, or), in
-- English or Chinese.  e.g.  SELECT title FROM news.articles WHERE search @@ news.search_query('台湾 军售');
CREATE OR REPLACE FUNCTION news.search_query(q text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
    SELECT websearch_to_tsquery('english'::regconfig, news.search_text(q))
$$;

-- Replacing a generated column means dropping it (the views that read it go with it and are
-- recreated by this same migrate, as in 0010).
ALTER TABLE news.articles DROP COLUMN search CASCADE;
-- The CJK test is spelled out here, not left to news.search_text, so that a row without CJK text
-- (nearly every row) costs one regular-expression scan per field and no function call.
ALTER TABLE news.articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, CASE WHEN title ~ '[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]'
        THEN news.search_text(title) ELSE coalesce(title, '') END), 'A')
    || setweight(to_tsvector('english'::regconfig, CASE WHEN summary ~ '[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]'
        THEN news.search_text(summary) ELSE coalesce(summary, '') END), 'B')
    || setweight(to_tsvector('english'::regconfig, CASE WHEN left(body, 200000) ~ '[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]'
        THEN news.search_text(left(body, 200000)) ELSE coalesce(left(body, 200000), '') END), 'C')
) STORED;
CREATE INDEX articles_search ON news.articles USING gin (search);
DELETE FROM news.schema_views;

-- (EXECUTE on functions is PUBLIC's by default: newswatch_reader can call both.)
