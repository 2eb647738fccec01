"""`escalation serve` in its own process, as users run it; for reliability tests and benchmarks."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, port: int | None = None, env: dict[str, str] | None = None,
                 workers: int = 1):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # A file, not a pipe: nobody reads a pipe while the test runs, and a chatty server would block on it.
        self.log = tempfile.TemporaryFile()
        env = {**os.environ, "ESCALATION_DATABASE_URL": database_url, "ESCALATION_LOG_LEVEL": "warning",
               **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             *(["--workers", str(workers)] if workers > 1 else [])],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log,
            start_new_session=True)  # its own process group: stop() can kill its workers with it
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.stderr_tail())
            try:  # readiness may take its 1.5 s budget on a loaded machine: wait longer than that for its answer
                if httpx.get(f"{self.base}/health/ready", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become ready: " + self.stderr_tail())

    def stderr_tail(self, size: int = 2000) -> str:
        self.log.seek(0, os.SEEK_END)
        self.log.seek(max(0, self.log.tell() - size))
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # never left running, nor its workers: they hold database connections
                print("server did not stop in 60 s: killed\n" + self.stderr_tail(), file=sys.stderr)
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


@contextmanager
def server(database_url: str, workers: int = 1, env: dict[str, str] | None = None):
    s = Server(database_url, workers=workers, env=env)
    try:
        yield s.base
    finally:
        s.stop()
