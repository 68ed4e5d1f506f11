-- Applied by every migrate, after the views: the read-only role newswatch_reader (migration 0008)
-- may read every table and view in schema news. Granting takes a lock on each table, so it is
-- done only when something is not granted yet (a new table or view, or a role created later).
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'newswatch_reader')
       AND EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'news' AND c.relkind IN ('r', 'v', 'm', 'p')
                     AND NOT has_table_privilege('newswatch_reader', c.oid, 'SELECT'))
    THEN
        GRANT USAGE ON SCHEMA news TO newswatch_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA news TO newswatch_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA news GRANT SELECT ON TABLES TO newswatch_reader;
    END IF;
END $$;
