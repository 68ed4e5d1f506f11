"""Serving the corpus: newswatch.dev.feedserver.FeedServer in separate processes.

The server runs outside the process being measured so its CPU and memory are not charged to
the contender, and so its own cost can be read (psutil CPU time of the server processes during
each run). With `procs > 1`, several server processes share one port through SO_REUSEPORT and
the kernel spreads connections across them: the way out if one process (one GIL) turns out to
be the bottleneck.

Two stdlib defaults are raised in the server processes only, because they are limits of a
toy server and not of anything measured: the listen backlog (5) and Nagle's algorithm, which
with http.server's separate header and body writes can stall a response by a delayed ACK.

With `pages`, the files of that directory are served too, as text/html under /pages/ (the
article pages of the full-text step, bench/fulltext.py). Files with the same bytes share one
copy in memory: the step cycles a hundred or so pages over a thousand addresses.

Run as `python -m bench.server --dir DIR --port PORT [--pages DIR] [--reuse-port]`; prints
"ready" once listening, every file loaded (the directories are read once, at start).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def serve(directory: Path, port: int, reuse_port: bool, pages: Path | None = None) -> None:
    import http.server
    import socketserver

    from newswatch.dev.feedserver import FeedServer

    # block the stop signals before any thread starts, so sigwait below receives them
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    http.server.ThreadingHTTPServer.request_queue_size = 256
    http.server.ThreadingHTTPServer.allow_reuse_port = reuse_port
    socketserver.StreamRequestHandler.disable_nagle_algorithm = True
    server = FeedServer(port=port)
    server.add_directory(directory, prefix="/feeds/")
    if pages is not None:
        add_pages(server, pages)
    # FeedServer keeps every request for the tests' assertions; a benchmark making hundreds of
    # thousands of requests must not grow a list forever.
    server.requests = _Discard()
    server.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop()


def add_pages(server, pages: Path) -> int:
    """Serve every file of `pages` at /pages/<name> as text/html (no charset: the page's own
    <meta> says it, as most servers leave it), one copy in memory per distinct body."""
    bodies: dict[bytes, bytes] = {}
    served = 0
    for file in sorted(pages.iterdir()):
        if file.is_file() and not file.name.startswith("."):
            body = file.read_bytes()
            body = bodies.setdefault(hashlib.sha1(body).digest(), body)
            server.add_document("/pages/" + file.name, body, "text/html")
            served += 1
    return served


class _Discard(list):
    def append(self, item):  # a list that forgets
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerGroup:
    """One or more server processes on one port; `cpu_seconds()` is their CPU time so far."""

    def __init__(self, directory: Path, procs: int = 1, log_dir: Path | None = None, pages: Path | None = None):
        self.directory = Path(directory)
        self.pages = Path(pages) if pages is not None else None
        self.procs = max(1, procs)
        self.port = _free_port()
        self._popen: list[subprocess.Popen] = []
        self._ps: list[psutil.Process] = []
        self.log_dir = log_dir

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerGroup:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins"), env.get("PYTHONPATH")])
        )
        for _ in range(self.procs):
            cmd = [sys.executable, "-m", "bench.server", "--dir", str(self.directory), "--port", str(self.port)]
            if self.pages is not None:
                cmd += ["--pages", str(self.pages)]
            if self.procs > 1:
                cmd.append("--reuse-port")
            proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True)
            line = proc.stdout.readline().strip()
            if line != "ready":
                proc.kill()
                raise RuntimeError(f"feed server did not start (said {line!r})")
            self._popen.append(proc)
            self._ps.append(psutil.Process(proc.pid))
        return self

    def cpu_seconds(self) -> float:
        total = 0.0
        for p in self._ps:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def rss_bytes(self) -> int:
        return sum(p.memory_info().rss for p in self._ps if p.is_running())

    def stop(self) -> None:
        for proc in self._popen:
            proc.terminate()
        for proc in self._popen:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._popen.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pages", help="also serve this directory's files as text/html under /pages/")
    ap.add_argument("--reuse-port", action="store_true")
    args = ap.parse_args(argv)
    serve(Path(args.dir), args.port, args.reuse_port, Path(args.pages) if args.pages else None)


if __name__ == "__main__":
    main()
