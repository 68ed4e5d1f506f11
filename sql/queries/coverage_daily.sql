-- The coverage page's chart: relevant articles per publication day and topic.
SELECT day, topic, articles, stories
FROM news.daily_topic_coverage
WHERE day >= %(first_day)s AND day <= %(last_day)s;
