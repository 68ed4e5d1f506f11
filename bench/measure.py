"""Run one contender in its own process and measure it from outside.

For every run we record:
  - wall time of the whole process (interpreter start, imports and all), and the contender's
    own timings, which it writes as JSON to the file named by $BENCH_RESULT;
  - peak RSS: `ru_maxrss` from wait4() — the largest RSS of the process or of any descendant it
    reaped — and, sampled every 100 ms with psutil, the peak of the whole process tree's summed
    RSS and of its largest single process (Airflow starts task subprocesses);
  - CPU time of the process tree (user + system, from the same rusage) and of the feed server
    during the run, so a saturated server shows up instead of hiding in the contender's figure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class ProcessRun:
    label: str
    cmd: list[str]
    returncode: int
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    maxrss_bytes: int  # wait4 ru_maxrss: the process or its largest reaped descendant
    tree_peak_rss_bytes: int  # sampled: all processes of the tree at once
    single_peak_rss_bytes: int  # sampled: the largest single process of the tree
    server_cpu_s: float | None
    result: dict = field(default_factory=dict)
    log: str | None = None

    @property
    def peak_rss_bytes(self) -> int:
        return max(self.maxrss_bytes, self.single_peak_rss_bytes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["peak_rss_bytes"] = self.peak_rss_bytes
        return d


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.tree_peak = 0
        self.single_peak = 0
        self._halt = threading.Event()

    def run(self):
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._halt.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            total = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                self.single_peak = max(self.single_peak, rss)
            self.tree_peak = max(self.tree_peak, total)
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join(timeout=2)


def bench_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins"), env.get("PYTHONPATH")])
    )
    env.update(extra or {})
    return env


def run_process(
    label: str, cmd: list[str], *, env: dict, out_dir: Path, server=None, timeout: float | None = None
) -> ProcessRun:
    """Run `cmd`, wait for it with wait4, and return what was measured. The command's output
    goes to <out_dir>/logs/<label>.log; its own figures come back through $BENCH_RESULT."""
    logs = out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{label}.log"
    result_path = out_dir / "results" / f"{label}.json"
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    env = dict(env, BENCH_RESULT=str(result_path))
    server_before = server.cpu_seconds() if server else None
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = _Sampler(proc.pid)
        sampler.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            # wait4 (not Popen.wait) so we get this child's rusage; poll so a timeout can fire
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline and time.monotonic() > deadline:
                proc.kill()
            time.sleep(0.05)
        wall = time.perf_counter() - started
        sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {}
    if result_path.exists():
        result = json.loads(result_path.read_text())
    run = ProcessRun(
        label=label,
        cmd=cmd,
        returncode=proc.returncode,
        wall_s=wall,
        cpu_user_s=usage.ru_utime,
        cpu_sys_s=usage.ru_stime,
        maxrss_bytes=usage.ru_maxrss * 1024,  # kilobytes on Linux
        tree_peak_rss_bytes=sampler.tree_peak,
        single_peak_rss_bytes=sampler.single_peak,
        server_cpu_s=(server.cpu_seconds() - server_before) if server else None,
        result=result,
        log=str(log_path),
    )
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-25:]
        print(f"  !! {label} exited with {proc.returncode}; last lines of {log_path}:", file=sys.stderr)
        for line in tail:
            print("  | " + line[:240], file=sys.stderr)
    return run


def write_result(data: dict) -> None:
    """Called inside a contender: hand its own figures to the harness."""
    path = os.environ.get("BENCH_RESULT")
    if path:
        Path(path).write_text(json.dumps(data, indent=1, default=str))
