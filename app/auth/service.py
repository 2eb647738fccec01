"""Key creation, revocation and verification; a short-lived in-memory view keeps verification off the database."""

import hashlib
import hmac
import secrets
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import ApiKey

SCOPES = ("ingest", "read", "admin")
KEY_PREFIX = "esk"


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
    """Active keys by prefix, re-read at most every `ttl` seconds so revocations apply within that time."""

    def __init__(self, factory: sessionmaker[Session], bootstrap: str | None = None, ttl: float = 5.0):
        self._factory, self._bootstrap, self._ttl = factory, bootstrap, ttl
        self._keys: dict[str, tuple[str, frozenset[str]]] = {}
        self._ever = False
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        with self._lock:
            if time.monotonic() - self._loaded_at < self._ttl:
                return
            with self._factory() as session:
                self._keys = {k.prefix: (k.secret_hash, frozenset(k.scopes.split())) for k in active(session)}
                self._ever = self._keys or session.scalar(select(ApiKey.id).limit(1)) is not None
            self._loaded_at = time.monotonic()

    @property
    def open(self) -> bool:
        """No key was ever created: the service runs open (allowed only on loopback, checked at start-up).

        Revoking every key does not reopen the service.
        """
        self._refresh()
        return not self._ever and not self._bootstrap

    def scopes_for(self, plaintext: str) -> frozenset[str] | None:
        if not plaintext.isascii():  # no key we issue is; compare_digest would raise on it
            return None
        if self._bootstrap and hmac.compare_digest(plaintext.encode(), self._bootstrap.encode()):
            return frozenset(SCOPES)
        self._refresh()
        parts = plaintext.split("_", 2)
        entry = self._keys.get(parts[1]) if len(parts) == 3 and parts[0] == KEY_PREFIX else None
        if entry and hmac.compare_digest(entry[0], _hash(plaintext)):
            return entry[1]
        return None
