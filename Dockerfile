# Image for every Airflow service in docker-compose.yml (api-server, scheduler, dag-processor,
# celery worker, triggerer, init). Build: docker compose build
#
# Extends the official image the documented way (pip install as the airflow user, pinning
# apache-airflow alongside) rather than installing packages at container start, which the
# official docs reserve for quick checks.
FROM apache/airflow:3.3.2-python3.11

USER airflow
WORKDIR /opt/airflow

# Layout mirrors the repository under AIRFLOW_HOME, so newswatch's project root (the parent of
# plugins/) is /opt/airflow and sql/ and config/ resolve there. Owned by airflow: the install
# below writes plugins/newswatch.egg-info.
COPY --chown=airflow:0 pyproject.toml constraints.txt ./
COPY --chown=airflow:0 plugins/ plugins/

# Editable (-e): the code that runs is /opt/airflow/plugins/newswatch, the same path compose
# bind-mounts ./plugins over, so there is one copy of the pipeline, never a stale one in
# site-packages shadowing the mounted one. constraints.txt pins every dependency
# (apache-airflow==3.3.2 included); naming apache-airflow too keeps pip from moving it.
RUN pip install --no-cache-dir \
        -c constraints.txt \
        "apache-airflow==${AIRFLOW_VERSION}" \
        -e ".[cluster]"

# DAGs, SQL and config baked in as well, so the image also runs without the bind mounts.
COPY --chown=airflow:0 dags/ dags/
COPY --chown=airflow:0 sql/ sql/
COPY --chown=airflow:0 config/ config/

ENV NEWSWATCH_FEEDS=/opt/airflow/config/feeds.yaml \
    NEWSWATCH_TOPICS=/opt/airflow/config/topics.yaml \
    NEWSWATCH_SQL_DIR=/opt/airflow/sql
