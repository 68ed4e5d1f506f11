-- What kind of outlet published an article (wire, US press, Chinese state media, government,
-- think tank, ...), for the analyst's filters: a feed's own type (feeds.yaml outlet_type), and
-- publishers by name (config/outlets.yaml; aggregated items carry their real source's name),
-- which wins. Both are synced from the config on every run.
ALTER TABLE news.feeds ADD COLUMN outlet_type text;
CREATE TABLE news.outlet_types (
    outlet_key   text PRIMARY KEY,   -- lower(outlet)
    outlet       text NOT NULL,
    outlet_type  text NOT NULL
);

-- The Airflow task instance that made a fetch ("poll" and its map index), so a feed's failure
-- on the analyst's page links to that task's log.
ALTER TABLE news.fetch_log ADD COLUMN airflow_task text;
