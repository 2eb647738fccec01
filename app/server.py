"""How `escalation serve` runs uvicorn: connection, keep-alive and header limits at the socket.

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) and answers 503 past
`limit_concurrency`, but has no deadline for a request's headers: a fresh connection that sends
nothing, or trickles a header a byte at a time (slowloris), stays open for ever, and httptools
buffers a header of any size. `GuardedProtocol` adds both limits and a hard cap on connections.
"""

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import Settings, get_settings

STATUS_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
              b"x-content-type-options: nosniff\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s")
BODY_431 = b'{"error":"headers_too_large","detail":"request headers too large","field":"headers","errors":null}'


class GuardedProtocol(HttpToolsProtocol):
    """httptools with a header deadline, a header size limit and a connection cap (from the settings)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._deadline, self._max_header = settings.header_timeout_seconds, settings.max_header_bytes
        self._max_connections = settings.max_connections
        self._timer = None
        self._in_headers, self._header_bytes, self._tail = True, 0, b""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > self._max_connections:
            transport.close()  # closed at once: its file descriptor is free again
            return
        self._arm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_headers and self._header_bytes + len(data) > self._max_header:
            end = (self._tail + data).find(b"\r\n\r\n")
            if end < 0 or self._header_bytes - len(self._tail) + end + 4 > self._max_header:
                self.transport.write(STATUS_431 % (len(BODY_431), BODY_431))
                self.transport.close()
                return
        if self._in_headers:
            self._header_bytes += len(data)
            self._tail = data[-3:]
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._in_headers = False
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._in_headers, self._header_bytes, self._tail = True, 0, b""
        super().on_response_complete()

    def _arm(self) -> None:
        self._disarm()
        self._timer = self.loop.call_later(self._deadline, self._too_slow)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._timer = None
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict:
    """The keyword arguments `escalation serve` gives uvicorn.run besides the app, host and port."""
    return {
        "http": GuardedProtocol,
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "server_header": False,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: only the proxies named
        "proxy_headers": bool(settings.forwarded_allow_ips.strip()),
        "forwarded_allow_ips": settings.forwarded_allow_ips.strip() or None,
    }
