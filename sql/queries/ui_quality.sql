-- The quality page: the daily DAG's data-quality results from %(first_day)s on, newest day
-- first (each row's detail names the day it judged).
SELECT day, check_name, passed, value, threshold, detail, checked_at
FROM news.quality_checks
WHERE day >= %(first_day)s
ORDER BY day DESC, check_name;
