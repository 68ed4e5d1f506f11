-- Articles first seen on %(day)s (UTC), per outlet.
INSERT INTO news.daily_outlet_rollup (day, outlet, articles, relevant, stories)
SELECT %(day)s::date, coalesce(a.outlet, '(unknown)'), count(*), count(*) FILTER (WHERE a.is_relevant),
       count(DISTINCT a.story_id)
FROM news.articles a
WHERE a.first_seen_at >= %(start)s AND a.first_seen_at < %(end)s
GROUP BY 2;
