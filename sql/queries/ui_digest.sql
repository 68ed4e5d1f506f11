-- The digest page: the daily DAG's digest of one UTC day.
SELECT day, stories, markdown, html, created_at
FROM news.digests
WHERE day = %(day)s;
