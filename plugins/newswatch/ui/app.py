"""The analyst's pages as a FastAPI app, mounted by the api-server at /newswatch (registered by
plugins/newswatch_coverage.py):

    /coverage  (.json)           the pipeline's state, top stories, daily chart, outlets, feeds, quality
    /stories/{id}  (.json)       a story: every article and reprint, evidence, full text, sightings
    /articles  (.json, .csv)     the filtered article list (filters.py)
    /digests, /digests/{day}  (.json)   the daily digests
    /quality  (.json)            the last 14 days of data-quality checks

Every route, unknown paths included, is behind the access rule (access.py): logged in to the
Airflow UI, granted the `newswatch` view by the auth manager, and in NEWSWATCH_UI_ROLES when that
is set; operations detail only for users who may read the polling DAG's task logs. Every request
reads the warehouse in one read-only, repeatable-read transaction through
`airflow_support.reader_dsn` (the read-only login when one is configured).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..access import Access
from ..errors import PageNotFound, WarehouseUnavailable
from . import data as pages_data
from . import pages
from .export import articles_csv
from .filters import BadRequest, filters_as_dict, grouped, parse_filters
from .links import Links
from .present import group_failures, run_state

log = logging.getLogger("newswatch.ui")

STATEMENT_TIMEOUT_MS = 30_000
SECURITY_HEADERS = {
    # no script at all; styles inline; forms and frames only from the same origin (the Airflow UI)
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_STORY_REF = re.compile(r"^(\d{1,18})(\.json)?$")
_DAY_REF = re.compile(r"^(\d{4}-\d{2}-\d{2})(\.json)?$")


class SchemaMissing(WarehouseUnavailable):
    """The warehouse answers but has no newswatch schema: nothing has run against it yet."""

    def __init__(self, message: str, warehouse: dict):
        super().__init__(message)
        self.warehouse = warehouse


def jsonable(value):
    """Plain JSON types: times as ISO 8601 (UTC), dates as YYYY-MM-DD."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return jsonable(value.__dict__)
    return value


def _depth(request) -> int:
    """How many segments below the app's root the request's page is (for relative links)."""
    root = request.scope.get("root_path") or ""
    path = request.url.path
    rel = path[len(root) :] if root and path.startswith(root) else path
    return max(0, rel.strip("/").count("/"))


def _format(request) -> str:
    path = request.url.path
    return "json" if path.endswith(".json") else "csv" if path.endswith(".csv") else "html"


def create_app(
    dsn: Callable[[], str] | None = None,
    *,
    require_login: bool = True,
    access: Callable[..., Access] | None = None,
    schedule: Callable[[datetime], dict | None] | None = None,
    clock: Callable[[], datetime] | None = None,
):
    """The FastAPI app. `dsn` returns the warehouse DSN (default: airflow_support.reader_dsn);
    `require_login` uses the Airflow UI's session and auth manager (access.py); `access`, for
    tests, replaces both with a function of the request; `schedule` returns the polling DAG's
    next runs (default: Airflow's metadata, else the schedule setting); `clock` gives now."""
    if dsn is None:
        from ..airflow_support import reader_dsn

        dsn = reader_dsn
    warehouse_dsn: Callable[[], str] = dsn  # not None, for the handlers below
    schedule = schedule or pages_data.polling_schedule
    clock = clock or (lambda: datetime.now(UTC))

    # the dependency every route has: who is asking, and may they read (403 otherwise)
    reader: Callable[..., Access]
    if access is not None:
        rule = access

        def reader_by_rule(request: Request) -> Access:
            decision = rule(request)
            request.state.newswatch_access = decision
            if not decision.can_read:
                raise HTTPException(status_code=403, detail=f"not allowed: {decision.why}")
            return decision

        reader = reader_by_rule
    elif require_login:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.core_api.security import get_user

        from .. import access as access_rule
        from ..config import UISettings

        def reader_logged_in(request: Request, user=Depends(get_user)) -> Access:
            decision = access_rule.decide(user, get_auth_manager(), UISettings.from_env().allowed_roles)
            request.state.newswatch_access = decision
            if not decision.can_read:
                raise HTTPException(status_code=403, detail=f"not allowed: {decision.why}")
            return decision

        reader = reader_logged_in
    else:

        def reader_open(request: Request) -> Access:
            decision = Access(True, True)
            request.state.newswatch_access = decision
            return decision

        reader = reader_open

    app = FastAPI(
        title="newswatch: US–China coverage",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(reader)],
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    def links_for(request: Request, who: Access | None = None) -> Links:
        who = who or getattr(request.state, "newswatch_access", None)
        return Links(depth=_depth(request), ops=bool(who and who.sees_operations))

    def problem(request: Request, status: int, title: str, reason: str, headers: dict | None = None):
        kind = _format(request)
        if kind == "json":
            return JSONResponse({"detail": reason, "status": status}, status_code=status, headers=headers)
        if kind == "csv":
            return Response(
                f"{title}: {reason}\n", status_code=status, media_type="text/plain; charset=utf-8", headers=headers
            )
        return HTMLResponse(
            pages.render_error(status, title, reason, links_for(request)), status_code=status, headers=headers
        )

    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException):
        if exc.status_code == 401 and _format(request) == "html":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = "../" * (_depth(request) + 1) + "auth/login/?next=" + quote(target, safe="/")
            return RedirectResponse(url=login, status_code=307)
        titles = {401: "Not logged in", 403: "Not allowed", 404: "Not found"}
        return problem(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail),
            getattr(exc, "headers", None),
        )

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest):
        return problem(request, 400, "Bad request", str(exc))

    @app.exception_handler(PageNotFound)
    async def not_found(request: Request, exc: PageNotFound):
        return problem(request, 404, "Not found", str(exc))

    @app.exception_handler(WarehouseUnavailable)
    async def unavailable(request: Request, exc: WarehouseUnavailable):
        return problem(request, 503, "Warehouse unavailable", str(exc))

    @contextlib.contextmanager
    def reading():
        """One read-only, repeatable-read transaction on the warehouse (a statement timeout
        keeps a slow query from holding a server thread)."""
        import psycopg2
        import psycopg2.errors
        from psycopg2.extensions import make_dsn

        from ..errors import ConfigError
        from ..warehouse import connect

        try:
            target = make_dsn(
                warehouse_dsn(),
                application_name="newswatch-ui",
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c default_transaction_read_only=on",
            )
            conn = connect(target)
        except ConfigError as exc:
            raise WarehouseUnavailable(str(exc)) from None
        except psycopg2.OperationalError as exc:
            first = (str(exc).strip().splitlines() or ["connection failed"])[0]
            raise WarehouseUnavailable(f"cannot connect to the warehouse: {first}") from None
        try:
            conn.set_session(readonly=True, isolation_level="REPEATABLE READ")
            try:
                yield conn
            except (psycopg2.errors.UndefinedTable, psycopg2.errors.InvalidSchemaName):
                raise SchemaMissing(
                    f"database {conn.info.dbname} on {conn.info.host} has no newswatch schema yet: the first run "
                    "creates it (trigger us_china_news, or run make run / make demo)",
                    {
                        "database": conn.info.dbname,
                        "host": conn.info.host,
                        "port": conn.info.port,
                        "has_runs": False,
                        "has_articles": False,
                        "feeds": 0,
                    },
                ) from None
            except psycopg2.errors.QueryCanceled:
                raise WarehouseUnavailable(
                    "the warehouse took too long to answer (statement timeout); try a narrower filter"
                ) from None
            except psycopg2.OperationalError as exc:
                raise WarehouseUnavailable(f"the warehouse connection failed: {str(exc).strip()[:300]}") from None
        finally:
            with contextlib.suppress(Exception):
                conn.rollback()
            conn.close()

    def as_json(payload: dict, status: int = 200) -> JSONResponse:
        return JSONResponse(jsonable(payload), status_code=status)

    # --- routes --------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home(request: Request):
        return RedirectResponse(
            url="coverage" if request.url.path.endswith("/") else "newswatch/coverage", status_code=307
        )

    def coverage_data(request: Request, who: Access) -> dict:
        now = clock()
        try:
            when = schedule(now)
        except Exception:  # the page does without the next run time
            log.exception("next scheduled run")
            when = None
        try:
            with reading() as conn:
                return pages_data.load_coverage(conn, now=now, ops=who.sees_operations, schedule=when)
        except SchemaMissing as exc:  # a warehouse nothing has run against: say what to do
            return {
                "generated_at": now,
                "warehouse": exc.warehouse,
                "runs": [],
                "schedule": when,
                "feeds": [],
                "stories": [],
                "daily": [],
                "outlets": [],
                "quality": [],
                "digests": [],
                "labels": {},
                "first_day": now.date(),
                "last_day": now.date(),
                "ops": who.sees_operations,
            }

    @app.get("/coverage", response_class=HTMLResponse)
    def coverage_page(request: Request, who: Access = Depends(reader)):
        return HTMLResponse(pages.render_coverage(coverage_data(request, who), links_for(request, who)))

    @app.get("/coverage.json")
    def coverage_json(request: Request, who: Access = Depends(reader)):
        payload = coverage_data(request, who)
        latest = run_state(payload["runs"][0], payload["generated_at"]) if payload["runs"] else None
        payload["last_run"] = latest
        payload["failing_groups"] = [
            {"kind": g.kind.key, "summary": g.sentence, "feeds": [f["name"] for f in g.feeds]}
            for g in group_failures(payload["feeds"], with_causes=who.sees_operations)
        ]
        schedule_info = dict(payload.get("schedule") or {})
        schedule_info.pop("upcoming", None)
        payload["schedule"] = schedule_info
        return as_json(payload)

    @app.get("/stories/{ref}")
    def story(ref: str, request: Request, who: Access = Depends(reader)):
        match = _STORY_REF.match(ref)
        if not match or int(match.group(1)) > 2**63 - 1:
            raise BadRequest(f"story id {ref!r}: expected a number, like stories/12")
        story_id = int(match.group(1))
        with reading() as conn:
            payload = pages_data.load_story(conn, story_id, now=clock())
        if payload is None:
            raise PageNotFound(f"there is no story {story_id} in this warehouse")
        if match.group(2):
            payload.pop("labels", None)
            return as_json(payload)
        return HTMLResponse(pages.render_story(payload, links_for(request, who)))

    def articles_data(request: Request, *, csv: bool = False) -> dict:
        f = parse_filters(grouped(request.query_params.multi_items()))
        with reading() as conn:
            return pages_data.load_articles(conn, f, now=clock(), csv=csv)

    @app.get("/articles", response_class=HTMLResponse)
    def articles_page(request: Request, who: Access = Depends(reader)):
        return HTMLResponse(pages.render_articles(articles_data(request), links_for(request, who)))

    @app.get("/articles.json")
    def articles_json(request: Request, who: Access = Depends(reader)):
        payload = articles_data(request)
        f = payload["filters"]
        return as_json(
            {
                "filters": filters_as_dict(f),
                "total": payload["total"],
                "page": f.page,
                "per": f.per,
                "rows": payload["rows"],
                "notices": payload["notices"],
                "generated_at": payload["generated_at"],
            }
        )

    @app.get("/articles.csv")
    def articles_csv_file(request: Request, who: Access = Depends(reader)):
        payload = articles_data(request, csv=True)
        name = payload["filters"].csv_filename(payload["generated_at"])
        return Response(
            articles_csv(payload["rows"]).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
                "X-Total-Count": str(payload["total"]),
            },
        )

    @app.get("/quality", response_class=HTMLResponse)
    def quality_page(request: Request, who: Access = Depends(reader)):
        with reading() as conn:
            payload = pages_data.load_quality(conn, now=clock())
        return HTMLResponse(pages.render_quality(payload, links_for(request, who)))

    @app.get("/quality.json")
    def quality_json(request: Request, who: Access = Depends(reader)):
        with reading() as conn:
            payload = pages_data.load_quality(conn, now=clock())
        return as_json(payload)

    @app.get("/digests", response_class=HTMLResponse)
    def digest_index(request: Request, who: Access = Depends(reader)):
        with reading() as conn:
            payload = pages_data.load_digest_index(conn, now=clock())
        return HTMLResponse(pages.render_digest_index(payload, links_for(request, who)))

    @app.get("/digests/{ref}")
    def digest(ref: str, request: Request, who: Access = Depends(reader)):
        match = _DAY_REF.match(ref)
        try:
            day = date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            day = None
        if match is None or day is None:
            raise BadRequest(f"day {ref!r}: expected a date as YYYY-MM-DD, like digests/2026-11-27")
        with reading() as conn:
            payload = pages_data.load_digest(conn, day, now=clock())
        status = 200 if payload["digest"] else 404
        if match.group(2):
            return as_json(payload, status)
        return HTMLResponse(pages.render_digest(payload, links_for(request, who)), status_code=status)

    @app.get("/{path:path}", include_in_schema=False)
    def unknown(path: str, request: Request, who: Access = Depends(reader)):
        raise PageNotFound(f"no page {path!r}: the pages are coverage, articles, stories/<id>, digests and quality")

    return app
