"""A small local HTTP server for feeds: the demo, the tests and the benchmark serve from it.

Static documents get real conditional-GET behaviour (strong ETag and Last-Modified, 304 on a
match); any path can instead be given a handler that misbehaves on purpose (redirects, errors,
slow or trickling bodies) for the tests.
"""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import hashlib
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CONTENT_TYPES = {
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
}


@dataclass
class Response:
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""
    # seconds to sleep between chunks when body is an iterable (trickling servers)
    chunk_delay: float = 0.0


Handler = Callable[["Request"], Response]


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes = b""  # what a POST sent


@dataclass
class Document:
    body: bytes
    content_type: str
    etag: str
    last_modified: str
    gzip: bool = False


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that hung up (a fetcher closing a kept-alive connection, or stopping at its
        # size cap) is normal here; anything else is a bug in a handler and keeps its traceback.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class FeedServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._documents: dict[str, Document] = {}
        self._handlers: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # keep test output quiet
                pass

            def do_GET(self):
                server._handle(self)

            def do_HEAD(self):
                server._handle(self)

            def do_POST(self):
                server._handle(self)

        self._httpd = _QuietServer((host, port), _RequestHandler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- content -------------------------------------------------------------------------------
    def add_document(
        self,
        path: str,
        body: bytes,
        content_type: str | None = None,
        *,
        last_modified: float | None = None,
        gzip: bool = False,
    ) -> str:
        """Serve `body` at `path` with ETag/Last-Modified; replacing it changes both."""
        content_type = content_type or CONTENT_TYPES.get(Path(path).suffix, "application/xml")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = formatdate(last_modified if last_modified is not None else time.time(), usegmt=True)
        with self._lock:
            self._documents[path] = Document(body, content_type, etag, modified, gzip)
            self._handlers.pop(path, None)
        return self.url(path)

    def add_directory(self, directory: Path, prefix: str = "/") -> dict[str, str]:
        urls = {}
        for file in sorted(Path(directory).iterdir()):
            if file.is_file() and not file.name.startswith("."):
                urls[file.name] = self.add_document(prefix + file.name, file.read_bytes())
        return urls

    def add_handler(self, path: str, handler: Handler) -> str:
        with self._lock:
            self._handlers[path] = handler
            self._documents.pop(path, None)
        return self.url(path)

    def requests_for(self, path: str) -> list[Request]:
        """Requests of `path`, whatever their query string."""
        with self._lock:
            return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> FeedServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="feedserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- serving -------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        length = int(h.headers.get("Content-Length") or 0) if h.command == "POST" else 0
        sent = h.rfile.read(length) if length else b""
        request = Request(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, sent)
        with self._lock:
            self.requests.append(request)
            handler = self._handlers.get(path)
            document = self._documents.get(path)
        if handler is not None:
            response = handler(request)
        elif document is not None:
            response = self._serve_document(document, request)
        else:
            response = Response(404, {"Content-Type": "text/plain"}, b"not found\n")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._write(h, response)

    @staticmethod
    def _serve_document(doc: Document, request: Request) -> Response:
        headers = {"Content-Type": doc.content_type, "ETag": doc.etag, "Last-Modified": doc.last_modified}
        inm = request.headers.get("if-none-match")
        ims = request.headers.get("if-modified-since")
        if inm is not None:
            if doc.etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
                return Response(304, headers)
        elif ims is not None:
            try:
                if parsedate_to_datetime(ims) >= parsedate_to_datetime(doc.last_modified):
                    return Response(304, headers)
            except (TypeError, ValueError):
                pass
        body = doc.body
        if doc.gzip and "gzip" in request.headers.get("accept-encoding", ""):
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        return Response(200, headers, body)

    @staticmethod
    def _write(h: BaseHTTPRequestHandler, response: Response) -> None:
        h.send_response(response.status)
        headers = dict(response.headers)
        body = response.body
        if isinstance(body, (bytes, bytearray)):
            if response.status != 304:
                headers.setdefault("Content-Length", str(len(body)))
            else:
                body = b""
        else:
            headers["Transfer-Encoding"] = "chunked"
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        if h.command == "HEAD":
            return
        if isinstance(body, (bytes, bytearray)):
            h.wfile.write(body)
            return
        for chunk in body:
            if not chunk:
                continue
            h.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            h.wfile.flush()
            if response.chunk_delay:
                time.sleep(response.chunk_delay)
        h.wfile.write(b"0\r\n\r\n")
