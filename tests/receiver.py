"""A real HTTP receiver on 127.0.0.1 for webhook tests: records every request, answers from a script."""

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """`replies` are (status, headers) answered in order, then 200; `delay` seconds before each answer."""

    def __init__(self, replies: list[tuple[int, dict]] | None = None, delay: float = 0.0):
        self.replies = list(replies or [])
        self.delay = delay
        self.received: list[Received] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with owner._lock:
                    owner.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body,
                                                   time.time()))
                    status, headers = owner.replies.pop(0) if owner.replies else (200, {})
                time.sleep(owner.delay)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # several workers send at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, n: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= n:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {n} requests, received {len(self.received)}")
