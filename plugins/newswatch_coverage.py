"""Airflow plugin: the analyst's pages (newswatch.ui), served by the api-server under /newswatch
(coverage, stories, articles, digests, quality) and linked from the UI's navigation as
"US–China coverage" (Browse), shown inside the UI."""

from airflow.plugins_manager import AirflowPlugin

from newswatch.ui import create_app


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
