-- The coverage page's top outlets: relevant articles per outlet published since %(since)s, with
-- the outlet's type (config/outlets.yaml, else its feed's) and how many distinct stories.
SELECT outlet,
       mode() WITHIN GROUP (ORDER BY outlet_type) AS outlet_type,
       count(*)                                   AS articles,
       count(DISTINCT story_id)                   AS stories,
       max(published_at)                          AS latest_published_at
FROM news.us_china_articles
WHERE published_at >= %(since)s AND outlet IS NOT NULL
GROUP BY outlet
ORDER BY articles DESC, stories DESC, outlet
LIMIT %(limit)s;
