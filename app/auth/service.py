"""Key creation, revocation and verification; an in-memory view refreshed in the background keeps verification off the database."""

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timezone

import anyio

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import ApiKey

SCOPES = ("ingest", "read", "metrics", "admin")  # metrics: GET /metrics only (a scraper's key)
KEY_PREFIX = "esk"
MAX_KEY_LENGTH = 256  # issued keys are ~60 characters; a longer header is not hashed

log = logging.getLogger("escalation.auth")


def _hash(secret: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def create(session: Session, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is shown once and never stored."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {SCOPES}, got {scopes}")
    prefix = secrets.token_hex(4)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, secret_hash=_hash(plaintext), scopes=" ".join(sorted(set(scopes))),
                 created_at=datetime.now(timezone.utc))
    session.add(key)
    session.flush()
    return key, plaintext


def revoke(session: Session, prefix: str) -> bool:
    result = session.execute(update(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
                             .values(revoked_at=datetime.now(timezone.utc)))
    return result.rowcount > 0


def active(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None)).order_by(ApiKey.id)))


class KeyRing:
    """Active keys by prefix, held in memory; `run` re-reads them every `ttl` seconds off the event loop.

    Requests only read the in-memory view, so no request ever waits for the database to authenticate
    (a busy pool used to stall every request, liveness included). A key created or revoked by the CLI
    or another process applies within `ttl` seconds.
    """

    def __init__(self, factory: sessionmaker[Session], bootstrap: str | None = None, ttl: float = 5.0):
        self._factory, self._bootstrap, self._ttl = factory, bootstrap, ttl
        self._keys: dict[str, tuple[str, frozenset[str]]] = {}
        self._ever = False

    def load(self) -> None:
        """Read the keys now (blocking): at start-up, in tests, and from `run`'s worker thread."""
        with self._factory() as session:
            keys = {k.prefix: (k.secret_hash, frozenset(k.scopes.split())) for k in active(session)}
            ever = bool(keys) or session.scalar(select(ApiKey.id).limit(1)) is not None
        self._keys, self._ever = keys, ever  # swapped whole: readers never see a half-built view

    def start(self) -> None:
        """The first read, at start-up; if the database cannot be read, fail closed (keys assumed to exist)."""
        try:
            self.load()
        except Exception as exc:
            log.warning("API keys not read at start-up (%s): open mode stays off until they are", type(exc).__name__)
            self._ever = True

    async def run(self) -> None:
        """Refresh forever in a worker thread; a failed refresh keeps the last view (the database may be busy)."""
        while True:
            await anyio.sleep(self._ttl)
            try:
                await anyio.to_thread.run_sync(self.load)
            except Exception as exc:  # keep serving with the keys we know
                log.warning("API keys not refreshed: %s", type(exc).__name__)

    @property
    def open(self) -> bool:
        """No key was ever created: the service runs open, to loopback clients only.

        Revoking every key does not reopen the service.
        """
        return not self._ever and not self._bootstrap

    @staticmethod
    def identity(plaintext: str) -> str:
        """What rate limits count by: an issued key's public prefix, or the bootstrap key."""
        parts = plaintext.split("_", 2)
        return parts[1] if len(parts) == 3 and parts[0] == KEY_PREFIX else "bootstrap"

    def allows(self, plaintext: str | None, scope: str) -> bool:
        """The key (None: no key) may use `scope` now: for work that outlives the request it was checked on."""
        if self.open:
            return True
        scopes = self.scopes_for(plaintext) if plaintext else None
        return scopes is not None and (scope in scopes or "admin" in scopes)

    def scopes_for(self, plaintext: str) -> frozenset[str] | None:
        # No key we issue is longer or non-ASCII; compare_digest would raise on non-ASCII.
        if len(plaintext) > MAX_KEY_LENGTH or not plaintext.isascii():
            return None
        if self._bootstrap and hmac.compare_digest(plaintext.encode(), self._bootstrap.encode()):
            return frozenset(SCOPES)
        parts = plaintext.split("_", 2)
        entry = self._keys.get(parts[1]) if len(parts) == 3 and parts[0] == KEY_PREFIX else None
        if entry and hmac.compare_digest(entry[0], _hash(plaintext)):
            return entry[1]
        return None
