-- Seconds per stage of each poll (fetch, parse, normalise, relevance, fingerprint, record), so a
-- run's summary can say where its time went whichever way it ran (CLI or Airflow tasks).
ALTER TABLE news.fetch_log ADD COLUMN timings jsonb;
