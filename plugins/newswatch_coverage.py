"""Airflow plugin: the "US–China coverage" page, served by the api-server at /newswatch/coverage
and linked from the UI's navigation (shown inside the UI)."""

from airflow.plugins_manager import AirflowPlugin

from newswatch.coverage import create_app


class NewswatchCoveragePlugin(AirflowPlugin):
    name = "newswatch"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/newswatch", "name": "newswatch coverage"}]
    external_views = [
        {
            "name": "US–China coverage",
            "href": "newswatch/coverage",
            "url_route": "us-china-coverage",
            "destination": "nav",
            "category": "browse",
        }
    ]
