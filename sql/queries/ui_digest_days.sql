-- The days that have a digest, newest first.
SELECT day, stories, created_at
FROM news.digests
ORDER BY day DESC
LIMIT %(limit)s;
