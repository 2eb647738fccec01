"""Authentication before anything reads the body: the open-mode guard, API keys, rate limits.

A pure ASGI middleware, so a request without a valid key is answered 401 before FastAPI parses
its JSON. Scopes found here are checked per route by `require` (403).
"""

import ipaddress
import math
import time

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app import errors
from app.auth.service import KeyRing

# Paths that need a key once keys exist; /health and the docs stay public (ready shows no details).
PROTECTED = ("/v1/", "/metrics/")
SCOPES_KEY = "api_scopes"


def is_loopback(host: str | None) -> bool:
    # No client address (a UNIX socket) is local; "testclient" is Starlette's in-process client,
    # a name no network server reports (uvicorn gives the peer's IP address).
    if host in (None, "testclient", "localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def presented_key(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].strip().decode("latin-1")
        if name == b"x-api-key":
            return value.strip().decode("latin-1")
    return None


class RateLimits:
    """Moving-window limits in this process's memory (the `limits` library)."""

    def __init__(self, per_key: str, per_address: str):
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_key = parse_many(per_key) if per_key else []
        self._per_address = parse_many(per_address) if per_address else []

    def retry_after(self, kind: str, who: str) -> int | None:
        """Count one request; None if allowed, else the seconds until the window lets one through."""
        for item in self._per_key if kind == "key" else self._per_address:
            if not self._limiter.hit(item, kind, who):
                reset = self._limiter.get_window_stats(item, kind, who).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None


class Authenticate:
    def __init__(self, app, limits: RateLimits):
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        ring: KeyRing = scope["app"].state.keyring  # built in the lifespan, after the middleware
        path, client = scope["path"], (scope.get("client") or (None,))[0]
        protected = path.startswith(PROTECTED) or path in ("/v1", "/metrics")
        if ring.open:
            if not is_loopback(client) and path != "/health/live":
                return await errors.send_asgi(send, errors.Forbidden(
                    "no API key is configured, so this service answers loopback clients only: create a key "
                    "with `escalation keys create` or set ESCALATION_BOOTSTRAP_API_KEY"))
            return await self.app(scope, receive, send)
        plaintext = presented_key(scope["headers"])
        scopes = ring.scopes_for(plaintext) if plaintext else None
        if scopes is None:
            # Probes are never limited: a load balancer polls them from one address.
            if not path.startswith("/health/") and (wait := self.limits.retry_after("address", client or "")):
                return await self._too_many(send, wait)
            if protected:
                detail = ("unknown or revoked API key" if plaintext
                          else "an API key is required (Authorization: Bearer <key> or X-API-Key)")
                return await errors.send_asgi(send, errors.Unauthorized(detail), {"WWW-Authenticate": "Bearer"})
        else:
            if (wait := self.limits.retry_after("key", ring.identity(plaintext))) is not None:
                return await self._too_many(send, wait)
            scope.setdefault("state", {})[SCOPES_KEY] = scopes
        await self.app(scope, receive, send)

    @staticmethod
    async def _too_many(send, wait: int) -> None:
        await errors.send_asgi(send, errors.RateLimited(f"too many requests; retry in {wait} s"),
                               {"Retry-After": str(wait)})
