"""Authentication before anything reads the body: the open-mode guard, API keys, rate limits.

Checked by the one pure ASGI layer (`app.guards.Guard`), so a request without a valid key is
answered 401 before FastAPI parses its JSON. Scopes found here are checked per route by
`require` (403).
"""

import ipaddress
import math
import time

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from app import errors
from app.auth.service import KeyRing
from app.http import route_path

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
    """The open-mode guard, the API key and the rate limits of one request, checked from its scope alone.

    `check` returns None to let the request on (with the key's scopes in the scope's state), or the
    refusal to send; `app.guards.Guard` runs it before anything reads the body.
    """

    def __init__(self, limits: RateLimits, proxies_named: bool = False):
        self.limits = limits
        # Open mode behind a proxy nobody named would see every client as the proxy's loopback address: a
        # request that says it was forwarded is then refused, not served to whoever the proxy serves.
        self.proxies_named = proxies_named
        self._loopback: dict[str | None, bool] = {}  # per client address: an address parse per request is waste

    def _is_loopback(self, client: str | None) -> bool:
        found = self._loopback.get(client)
        if found is None:
            if len(self._loopback) > 10_000:
                self._loopback.clear()
            found = self._loopback[client] = is_loopback(client)
        return found

    def check(self, scope) -> tuple[errors.AppError, dict[str, str] | None] | None:
        ring: KeyRing = scope["app"].state.keyring  # built in the lifespan, after the middleware
        path, client = route_path(scope), (scope.get("client") or (None,))[0]
        if ring.open:
            if path != "/health/live" and not self._is_loopback(client):
                return errors.Forbidden(
                    "no API key is configured, so this service answers loopback clients only: create a key "
                    "with `escalation keys create` or set ESCALATION_BOOTSTRAP_API_KEY"), None
            if path != "/health/live" and not self.proxies_named and _forwarded(scope["headers"]):
                return errors.Forbidden(
                    "no API key is configured and this request came through a proxy that is not named in "
                    "ESCALATION_FORWARDED_ALLOW_IPS: its clients cannot be told from loopback ones; name the proxy "
                    "or create a key"), None
            return None
        protected = path.startswith(PROTECTED) or path in ("/v1", "/metrics")
        plaintext = presented_key(scope["headers"])
        scopes = ring.scopes_for(plaintext) if plaintext else None
        if scopes is None:
            # Probes are never limited: a load balancer polls them from one address.
            if not path.startswith("/health/") and (wait := self.limits.retry_after("address", client or "")):
                return _too_many(wait)
            if protected:
                detail = ("unknown or revoked API key" if plaintext
                          else "an API key is required (Authorization: Bearer <key> or X-API-Key)")
                return errors.Unauthorized(detail), {"WWW-Authenticate": "Bearer"}
        else:
            if (wait := self.limits.retry_after("key", ring.identity(plaintext))) is not None:
                return _too_many(wait)
            if path.rstrip("/") == "/metrics" and not scopes & {"metrics", "admin"}:
                # what the service does and how much: for an operator's scraper, not for every client
                return errors.Forbidden("/metrics needs a key with the metrics (or admin) scope"), None
            scope.setdefault("state", {})[SCOPES_KEY] = scopes
        return None


def _forwarded(headers) -> bool:
    return any(name in (b"x-forwarded-for", b"forwarded") for name, _ in headers)


def may(scope, needed: str) -> bool:
    """Whether the request's key (found by `Authenticate`) holds `needed` (or admin), or the service is open;
    as `app.auth.dependencies.require` decides."""
    if scope["app"].state.keyring.open:
        return True
    scopes = scope.get("state", {}).get(SCOPES_KEY)
    return scopes is not None and (needed in scopes or "admin" in scopes)


def _too_many(wait: int) -> tuple[errors.AppError, dict[str, str]]:
    return errors.RateLimited(f"too many requests; retry in {wait} s"), {"Retry-After": str(wait)}
