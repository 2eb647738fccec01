"""Scope checks as route dependencies: `Depends(require("read"))`."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app import errors
from app.auth.service import KeyRing

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_keyring(request: Request) -> KeyRing:
    return request.app.state.keyring


KeyRingDep = Annotated[KeyRing, Depends(get_keyring)]


def require(scope: str):
    async def check(request: Request, ring: KeyRingDep) -> None:
        if ring.open:
            return
        credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
        plaintext = credentials.credentials if credentials else await _header(request)
        if not plaintext:
            raise errors.Unauthorized("an API key is required (Authorization: Bearer <key> or X-API-Key)")
        scopes = ring.scopes_for(plaintext)
        if scopes is None:
            raise errors.Unauthorized("unknown or revoked API key")
        if scope not in scopes and "admin" not in scopes:
            raise errors.Forbidden(f"this key lacks the {scope!r} scope")

    check.__name__ = f"require_{scope}"
    return check
