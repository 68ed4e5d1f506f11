#!/bin/bash
# Runs once, when the warehouse volume is first initialised (postgres image's
# /docker-entrypoint-initdb.d). Three logins, none of them the superuser:
#   newswatch          the pipeline: owns the database and schema `news`, writes
#   newswatch_reader   a role without login: SELECT on schema news (granted by the migrations)
#   newswatch_analyst  people's SQL clients and the UI's pages: a member of newswatch_reader
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v pipeline_password="$NEWSWATCH_PASSWORD" -v reader_password="$NEWSWATCH_READER_PASSWORD" <<'SQL'
CREATE ROLE newswatch LOGIN PASSWORD :'pipeline_password';
CREATE ROLE newswatch_reader NOLOGIN;
CREATE ROLE newswatch_analyst LOGIN PASSWORD :'reader_password' IN ROLE newswatch_reader;
CREATE DATABASE newswatch OWNER newswatch;
SQL
