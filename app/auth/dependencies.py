"""Scope checks as route dependencies: `Depends(require("read"))`.

The key itself was checked by `app.auth.middleware.Authenticate` before the body was read; this
only compares scopes, in memory. The two security dependencies declare the schemes in OpenAPI,
so /docs can send a key.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPBearer

from app import errors
from app.auth.middleware import SCOPES_KEY
from app.auth.service import KeyRing

_bearer = HTTPBearer(auto_error=False, description="API key as a bearer token")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


async def get_keyring(request: Request) -> KeyRing:
    return request.app.state.keyring


KeyRingDep = Annotated[KeyRing, Depends(get_keyring)]


def authenticated(request: Request) -> bool:
    """The middleware found a valid key on this request."""
    return request.scope.get("state", {}).get(SCOPES_KEY) is not None


def require(scope: str):
    async def check(request: Request, ring: KeyRingDep, _b=Depends(_bearer), _k=Depends(_header)) -> None:
        if ring.open:
            return
        scopes = request.scope.get("state", {}).get(SCOPES_KEY)
        if scopes is None:  # a route outside the middleware's protected paths
            raise errors.Unauthorized("an API key is required (Authorization: Bearer <key> or X-API-Key)")
        if scope not in scopes and "admin" not in scopes:
            raise errors.Forbidden(f"this key lacks the {scope!r} scope")

    check.__name__ = f"require_{scope}"
    return check
