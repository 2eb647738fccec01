"""`escalation serve` in its own process, as users run it; for reliability tests and benchmarks."""

import os
import socket
import subprocess
import sys
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
        env = {**os.environ, "ESCALATION_DATABASE_URL": database_url, "ESCALATION_LOG_LEVEL": "warning",
               **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             *(["--workers", str(workers)] if workers > 1 else [])],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.proc.stderr.read().decode()[-2000:])
            try:
                if httpx.get(f"{self.base}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not become ready")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@contextmanager
def server(database_url: str, workers: int = 1, env: dict[str, str] | None = None):
    s = Server(database_url, workers=workers, env=env)
    try:
        yield s.base
    finally:
        s.stop()
