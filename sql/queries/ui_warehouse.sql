-- The analyst's pages: which warehouse this is, and whether anything has happened in it yet
-- (an empty warehouse gets a page that says what to do instead of empty panels).
SELECT current_database()                                            AS database,
       inet_server_addr()::text                                      AS server_address,
       inet_server_port()                                            AS server_port,
       current_user                                                  AS login,
       (SELECT count(*) FROM news.feeds WHERE in_config)             AS feeds,
       EXISTS (SELECT 1 FROM news.pipeline_runs)                     AS has_runs,
       EXISTS (SELECT 1 FROM news.articles)                          AS has_articles,
       (SELECT max(first_seen_at) FROM news.articles WHERE is_relevant) AS last_relevant_seen_at,
       now()                                                         AS now;
