"""The analyst's pages in the Airflow UI: coverage, stories, the article list, digests and quality.

app.py      the FastAPI app: routes, the access rule on every route, read-only transactions
data.py     what each page reads (warehouse/reports.py, sql/queries/ui_*.sql) and the schedule
filters.py  the article list's filters: parsing (400 with the reason), links, CSV file names
present.py  what rows mean: failures grouped by cause with a hint, run states, evidence
pages/      server-rendered HTML, one module per page (pure: data in, HTML out)
charts.py   inline SVG: the daily chart, a story's reach over time
markup.py   escaping, times, aligned tables, the layout
links.py    relative links, within the app and into the Airflow UI
export.py   the article list as CSV
"""


def create_app(*args, **kwargs):
    from .app import create_app as build

    return build(*args, **kwargs)
