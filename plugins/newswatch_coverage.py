"""Airflow plugin: the analyst's pages (newswatch.ui), served by the api-server under /newswatch
(coverage, stories, articles, digests, quality) and linked from the UI's navigation as
"US–China coverage" (Browse), shown inside the UI."""

from airflow.plugins_manager import AirflowPlugin

from newswatch.ui import create_app


class NewswatchCoveragePlugin(AirflowPlugin):
    name = "newswatch"
    # Airflow reads these class attributes (declared as plain lists on AirflowPlugin, so not ClassVar here)
    fastapi_apps = [{"app": create_app(), "url_prefix": "/newswatch", "name": "newswatch coverage"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {
            "name": "US–China coverage",
            "href": "newswatch/coverage",
            "url_route": "us-china-coverage",
            "destination": "nav",
            "category": "browse",
        }
    ]
