-- The coverage page's quality panel: the checks of the latest day that was checked.
SELECT day, check_name, passed, value, threshold, detail, checked_at
FROM news.quality_checks
WHERE day = (SELECT max(day) FROM news.quality_checks)
ORDER BY check_name;
