-- The coverage page's banner: the latest pipeline runs, newest first (a run still going has no
-- finished_at and no summary yet).
SELECT run_id, trigger, started_at, finished_at, summary
FROM news.pipeline_runs
ORDER BY started_at DESC
LIMIT %(limit)s;
