-- A read-only role for analysts' SQL and the coverage page: USAGE on schema news and SELECT on
-- every table and view in it, now and later. Roles belong to the whole server: creating one
-- needs CREATEROLE, which the pipeline's own login may not have; then an administrator creates
-- it once (`CREATE ROLE newswatch_reader NOLOGIN;`, see the README). People's logins are
-- granted this role, never the pipeline's own.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'newswatch_reader') THEN
        CREATE ROLE newswatch_reader NOLOGIN;
    END IF;
EXCEPTION
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'role newswatch_reader does not exist and this login may not create it';
    WHEN duplicate_object OR unique_violation THEN
        NULL;   -- another database's migration created it at the same moment
END $$;
-- The grants themselves are sql/grants.sql, applied by every migrate (so a role an administrator
-- creates later, and tables and views added later, are covered).
