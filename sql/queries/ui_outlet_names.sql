-- The article list's outlet field suggests the outlets with relevant articles published since
-- %(since)s, most prolific first.
SELECT outlet
FROM news.articles
WHERE is_relevant AND published_at >= %(since)s AND outlet IS NOT NULL
GROUP BY outlet
ORDER BY count(*) DESC, outlet
LIMIT %(limit)s;
