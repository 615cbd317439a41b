"""What the server benchmarks share: a gunicorn server on 127.0.0.1 with its access log and CPU
use, the machine's busy time, percentiles, and the marked sections of bench/RESULTS.md.

Server time of a request = gunicorn's %(D)s (from the worker starting the request to the response
written; queueing for a free worker excluded), read from the access log.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
SECRET = "bench-secret-key-not-for-production"
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_busy_seconds() -> float:
    """CPU time (all cores, all processes) spent busy so far, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


class Gunicorn:
    """The app as in production (CSRF and rate limits on), `workers` sync workers, on `url`'s database."""

    def __init__(self, url: str, workdir: Path, workers: int, port: int | None = None):
        self.port = port or free_port()  # a port given: a restart on the same address
        self.access_log = workdir / "access.log"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.command = [
            # bench/gunicorn_bench.py: ./gunicorn.conf.py (production) when present, our access log kept.
            str(gunicorn), "-c", str(ROOT / "bench" / "gunicorn_bench.py"),
            "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
            "--access-logfile", str(self.access_log), "--access-logformat", ACCESS_FORMAT,
            "--error-logfile", "-", "--log-level", "warning",
            "forum_app:create_app()",
        ]
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "MAIL_BACKEND": "outbox",
            "MAIL_OUTBOX_DIR": str(workdir / "outbox"),
            "NOTES_UPLOAD_DIR": str(workdir / "uploads"),
            # Stations share ONE account here (20 x ~20 requests/s): far above API_RATE_LIMIT's
            # per-person default; the limit stays on, so its cost is in the figures.
            "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "1000000 per minute"),
        }
        env.pop("FORUM_NOW", None)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, path: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", path)
                status = connection.getresponse().status
                connection.close()
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start:\n" + self.output()[-3000:])

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def access_lines(self) -> int:
        return len(self.access_log.read_text().splitlines()) if self.access_log.exists() else 0

    def server_times(self, method: str, matches: Callable[[str], object], since_line: int) -> tuple[list[tuple[int, float]], int]:
        """(status, server time in ms) of the access-log lines after `since_line` whose method is
        `method` and whose path `matches`; and the number of lines read (the next `since_line`)."""
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        found = []
        for line in lines[since_line:]:
            parts = line.split()
            if len(parts) == 4 and parts[0] == method and matches(parts[1]):
                found.append((int(parts[2]), int(parts[3]) / 1000))
        return found, len(lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class StaffClient:
    """One staff member's phone: its own keep-alive connection, session cookie and CSRF token."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # The server closed the kept-alive connection: one fresh connection, one retry
            # (a POST retried here is exactly the replay the APIs are made for).
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        if (response.getheader("Connection") or "").lower() == "close":
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return response.status, data

    def log_in(self, email: str, password: str) -> None:
        """Through the real /login form; keeps the CSRF token for the API's X-CSRFToken header."""
        status, body = self.send("GET", "/login")
        found = CSRF_RE.search(body.decode())
        if status != 200 or not found:
            raise RuntimeError(f"GET /login answered {status} without a csrf_token")
        token = found.group(1) or found.group(2)
        form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password, "next": ""}).encode()
        status, _ = self.send("POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"POST /login answered {status}")
        self.token = token  # the session keeps its CSRF secret through the login

    def get(self, path: str) -> int:
        return self.send("GET", path)[0]

    def close(self) -> None:
        self.connection.close()


def start_postgres(directory: str) -> str:
    """A throwaway local PostgreSQL server in `directory` (scripts/postgres-local.sh); its URL."""
    script = ROOT / "scripts" / "postgres-local.sh"
    out = subprocess.run([str(script), "start", directory, str(free_port())], check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def stop_postgres(directory: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "postgres-local.sh"), "stop", directory], check=False)


def run_on_database(args, run: Callable):
    """`run(args)`; with `--postgres` and no `--database-url`, on a throwaway local PostgreSQL
    server started for it (`args.database_url` and `args.pg_dir` set) and stopped after."""
    if not args.postgres or args.database_url:
        return run(args)
    with tempfile.TemporaryDirectory(prefix="bench-postgres-") as pg_dir:
        args.database_url = start_postgres(pg_dir)
        args.pg_dir = pg_dir
        try:
            return run(args)
        finally:
            stop_postgres(pg_dir)


def uses_postgres(args) -> bool:
    return bool(args.database_url) and not args.database_url.startswith("sqlite")


def write_section(name: str, title: str, report: str) -> None:
    """Replace the section of RESULTS.md between `<!-- NAME: start -->` and `<!-- NAME: end -->`
    (appended at the end the first time); the hand-written analysis around it is kept."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    text = RESULTS.read_text() if RESULTS.exists() else ""
    section = f"{start}\n{title}\n\n{report}\n{end}\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)
