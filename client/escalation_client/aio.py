"""AsyncEscalationClient: the same calls as EscalationClient, awaitable."""

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from escalation_client import _core
from escalation_client.errors import Conflict, EscalationError
from escalation_client.models import Assessment, AssessmentPage, BatchResult, Dyad, Event, Risk, RiskSeries, as_dicts


class AsyncEscalationClient:
    """`async with AsyncEscalationClient("http://127.0.0.1:8000", api_key=...) as client:`."""

    def __init__(self, base_url: str, api_key: str | None = None, *, timeout: float = 30.0, retries: int = 4,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.retries = retries
        self._http = httpx.AsyncClient(base_url=base_url, headers=_core.headers(api_key), timeout=timeout,
                                  transport=transport)

    async def __aenter__(self) -> "AsyncEscalationClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, retried on network errors, 429 and 502-504: every call this client makes is safe to repeat."""
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self.retries:
                    raise _core.unreachable(exc) from exc
                await asyncio.sleep(_core.pause(attempt))
            else:
                if response.status_code in _core.RETRYABLE and attempt < self.retries:
                    await asyncio.sleep(_core.pause(attempt, response.headers.get("retry-after")))
                elif response.status_code >= 400:
                    raise _core.error(response)
                else:
                    return response
            attempt += 1

    async def post_events(self, events: list[Event | dict[str, Any]], *, batch_size: int | None = None) -> BatchResult:
        """Store events (`Event`s or contract dicts) in batches of at most the server's limit; each batch is
        all-or-nothing and idempotent."""
        events = as_dicts(events)
        size, start, result = batch_size or _core.DEFAULT_BATCH, 0, BatchResult()
        while start < len(events):
            chunk = events[start:start + size]
            try:
                data = (await self._send("POST", "/v1/events/batch", json={"items": chunk})).json()
            except EscalationError as exc:
                if exc.status == 413 and exc.error == "payload_too_large" and size > 1:
                    size //= 2  # the server's limit is lower: nothing was stored, try smaller batches
                    continue
                raise _core.rebase(exc, start) from None
            result.add(data, start)
            start += len(chunk)
        return result

    async def risk(self, a: str, b: str, as_of: date | str | None = None) -> Risk:
        """The dyad's risk as of a date (default today)."""
        response = await self._send("GET", "/v1/risk", params=_core.risk_params(a, b, as_of))
        return Risk.from_dict(response.json())

    async def what_if(self, a: str, b: str, events: list[Event | dict[str, Any]], as_of: date | str | None = None) -> Risk:
        """The dyad's risk if these hypothetical events happened; the service stores nothing."""
        body = _core.what_if_body(a, b, as_dicts(events), as_of)
        return Risk.from_dict((await self._send("POST", "/v1/risk/what-if", json=body)).json())

    async def series(self, dyad_id: str, *, start: date | str | None = None, end: date | str | None = None,
               step: int = 7) -> RiskSeries:
        """The dyad's risk on each date from `start` (default: a year before `end`) every `step` days, and on `end`
        (default today): each point as `risk(as_of=...)` answers it, computed in one request."""
        params = _core.series_params(start, end, step)
        return RiskSeries.from_dict((await self._send("GET", f"/v1/dyads/{quote(dyad_id, safe='')}/series",
                                                    params=params)).json())

    async def what_if_series(self, a: str, b: str, events: list[Event | dict[str, Any]], *, start: date | str | None = None,
                       end: date | str | None = None, step: int = 7) -> RiskSeries:
        """`series` as if these hypothetical events had been stored; the service stores nothing."""
        body = {"a": a, "b": b, "events": as_dicts(events), **_core.series_params(start, end, step)}
        return RiskSeries.from_dict((await self._send("POST", "/v1/risk/what-if/series", json=body)).json())

    async def dyads(self, *, country: str | None = None, min_level: str | None = None,
              page_size: int = 200) -> list[Dyad]:
        """Every dyad by current risk, highest first (all pages)."""
        out: list[Dyad] = []
        cursor = None
        while True:
            page = (await self._send("GET", "/v1/dyads", params=_core.dyad_params(country, min_level, cursor,
                                                                          page_size))).json()
            out.extend(Dyad.from_dict(d) for d in page["items"])
            if not (cursor := page.get("next_cursor")):
                return out

    async def assessments(self, after: str | int | None = None, *, limit: int = 100) -> AssessmentPage:
        """One page of the change feed after a cursor (default: from the start)."""
        params = {"after": str(after or 0), "limit": limit}
        return AssessmentPage.from_dict((await self._send("GET", "/v1/assessments", params=params)).json())

    async def watch(self, after: str | int | None = None, *, stop_when_idle: bool = False, poll_interval: float = 2.0,
              page_size: int = 500) -> AsyncIterator[Assessment]:
        """Every assessment after the cursor, then new ones as they are made, each exactly once.

        Follows the feed with its cursor, asking with the last ETag so an idle poll costs a 304;
        network errors and 5xx are waited out and the poll resumes at the same cursor. Store
        `assessment.cursor` to resume later. With `stop_when_idle`, stops once nothing is new.
        `after="now"`: only assessments made from now on (the feed's head, read first).
        """
        if after == "now":  # the feed's head, from the 409 a cursor past it gets (retried like any call)
            try:
                await self._send("GET", "/v1/assessments", params={"after": _core.PAST_ANY_HEAD, "limit": 1})
            except Conflict as exc:
                after = exc.head
            if after == "now" or after is None:
                raise EscalationError(None, "no_head", "the service did not say where its feed ends")
        cursor, last_id, etag, failures = str(after or 0), int(after or 0), None, 0
        while True:
            try:
                response = await self._http.get("/v1/assessments", params={"after": cursor, "limit": page_size},
                                          headers={"if-none-match": etag} if etag else {})
            except httpx.TransportError:
                await asyncio.sleep(_core.pause(failures))
                failures += 1
                continue
            if response.status_code >= 500 or response.status_code == 429:
                await asyncio.sleep(_core.pause(failures, response.headers.get("retry-after")))
                failures += 1
                continue
            failures = 0
            items: list[Assessment] = []
            if response.status_code != 304:
                if response.status_code >= 400:
                    raise _core.error(response)
                page = AssessmentPage.from_dict(response.json())
                items, cursor, etag = page.items, page.next_cursor, response.headers.get("etag")
            for item in items:
                if item.id > last_id:
                    last_id = item.id
                    yield item
            if len(items) < page_size:
                if stop_when_idle:
                    return
                await asyncio.sleep(poll_interval)
