"""The delivery worker: claims due deliveries, sends them signed, records each attempt, schedules retries.

Claims are short transactions: `FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's single writer
(BEGIN IMMEDIATE). A claim numbers the attempt (unique per delivery) and pushes the delivery's due time past
the send timeout, so no other worker takes the same attempt; if this worker dies mid-send, the
claim lapses and another worker makes the next attempt, with the same webhook-id.
"""

import asyncio
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import anyio
import httpx
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import tracing
from app.config import Settings
from app.database import make_sessionmaker
from app.observability import (WEBHOOK_ATTEMPT_SECONDS, WEBHOOK_ATTEMPTS, WEBHOOK_DISABLED, WEBHOOK_LAG,
                               WEBHOOK_PENDING)
from app.storage.engine import transactional_sessions
from app.webhooks import guard, retry, signing
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("escalation.webhooks")
BATCH = 20
PENDING_EVERY = 5.0  # seconds between counts of the queue, per worker
RECORDERS = 2  # a round's outcomes recorded at once: the pooled connections a round takes from the requests'
USER_AGENT = "escalation-risk-webhooks/1"


@dataclass(frozen=True, slots=True)
class Claim:
    delivery_id: int
    endpoint_id: int
    number: int
    message_id: str
    body: str
    url: str
    secret: str
    created_at: datetime  # when the delivery was queued: its assessment's commit
    traceparent: str | None = None  # the trace of the write that queued it


@dataclass(frozen=True, slots=True)
class Outcome:
    claim: Claim
    status_code: int | None
    error: str | None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def kind(self) -> str:
        """The outcome as a metric label: delivered, http_error, timeout, refused or network_error."""
        if self.status_code is not None:
            return "delivered" if self.ok else "http_error"
        return next((k for k in ("timeout", "refused") if (self.error or "").startswith(k)), "network_error")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Worker:
    def __init__(self, engine: Engine, settings: Settings, tracer_provider=None):
        self.settings, self._traces = settings, tracer_provider
        self._counted_at = -PENDING_EVERY  # when the queue was last counted (escalation_webhook_deliveries_pending)
        # Which worker made an attempt: host and pid, and a token of its own, since a restarted server can get
        # the pid (and the object address) of the one it replaced once the pids have wrapped.
        self.name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:100]
        self._reads = make_sessionmaker(engine)
        # Claims need a real transaction: SQLite's writer (BEGIN IMMEDIATE) or PostgreSQL's default
        # isolation; they append nothing to the feed, so they never take its append lock.
        self._claims: sessionmaker[Session] = transactional_sessions(engine)

    async def run(self) -> None:
        """Deliver until cancelled; an unexpected error is logged and the loop goes on."""
        async with httpx.AsyncClient(timeout=self.settings.webhooks_timeout_seconds, follow_redirects=False,
                                     headers={"user-agent": USER_AGENT}) as client:
            if self._traces is not None:
                tracing.instrument_httpx(client, self._traces)
            while True:
                try:
                    done = await self.run_once(client)
                except Exception:
                    log.exception("webhook delivery round failed")
                    done = 0
                if not done:
                    await asyncio.sleep(self.settings.webhooks_poll_seconds)

    async def run_once(self, client: httpx.AsyncClient) -> int:
        claims = await anyio.to_thread.run_sync(self.claim)
        recorders = anyio.CapacityLimiter(RECORDERS)
        await asyncio.gather(*(self._deliver(client, c, recorders) for c in claims))
        return len(claims)

    async def _deliver(self, client: httpx.AsyncClient, claim: Claim, recorders: anyio.CapacityLimiter) -> None:
        """Send one claim and record its outcome as soon as it is known: a slow receiver holds back no other
        delivery's record past its claim (another worker would send that one again), and an error in one
        delivery's handling spoils no other."""
        try:
            with WEBHOOK_ATTEMPT_SECONDS.time(), tracing.span("escalation.webhook.attempt", claim.traceparent,
                                                              delivery=claim.delivery_id, attempt=claim.number):
                outcome = await self.send(client, claim)
            WEBHOOK_ATTEMPTS.labels(outcome.kind).inc()
            if outcome.ok:
                WEBHOOK_LAG.observe((_now() - claim.created_at).total_seconds())
            await anyio.to_thread.run_sync(self.record, [outcome], limiter=recorders)
        except Exception:  # recorded nowhere: its claim lapses and another attempt follows
            log.exception("webhook delivery %s attempt %s failed unexpectedly", claim.delivery_id, claim.number)

    def claim(self) -> list[Claim]:
        now = _now()
        due = (WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= now)
        with self._reads() as session:  # a cheap look first: most rounds find nothing and take no write lock
            if time.monotonic() >= self._counted_at + PENDING_EVERY:  # a backlog drained in busy rounds: not each
                self._counted_at = time.monotonic()
                WEBHOOK_PENDING.set(session.scalar(select(func.count()).where(WebhookDelivery.status == "pending")))
            if session.scalar(select(WebhookDelivery.id).where(due).limit(1)) is None:
                return []
        lease = timedelta(seconds=self.settings.webhooks_timeout_seconds + 30)
        with self._claims.begin() as session:
            rows = session.execute(
                select(WebhookDelivery, WebhookEndpoint.url, WebhookEndpoint.secret)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(due, WebhookEndpoint.disabled_at.is_(None))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(BATCH)
                .with_for_update(skip_locked=True, of=WebhookDelivery)).all()
            claims = []
            for delivery, url, secret in rows:
                delivery.attempts += 1
                delivery.next_attempt_at = now + lease
                session.add(WebhookAttempt(delivery_id=delivery.id, number=delivery.attempts, worker=self.name,
                                           started_at=now))
                claims.append(Claim(delivery.id, delivery.endpoint_id, delivery.attempts, delivery.message_id,
                                    delivery.body, url, secret, _utc(delivery.created_at), delivery.traceparent))
        return claims

    async def send(self, client: httpx.AsyncClient, claim: Claim) -> Outcome:
        timestamp = int(time.time())
        headers = {"content-type": "application/json", "webhook-id": claim.message_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": signing.sign(claim.secret, claim.message_id, timestamp, claim.body)}
        timeout = self.settings.webhooks_timeout_seconds
        try:
            # The whole attempt (resolving, connecting, the answer's headers) within the timeout, not each read
            # alone: a receiver trickling its answer would otherwise outlast the claim.
            async with asyncio.timeout(timeout):
                urls, host, extensions = await guard.pin(claim.url, self.settings.webhooks_allow_private)
                for n, url in enumerate(urls):
                    try:
                        async with client.stream("POST", url, content=claim.body.encode(),
                                                 headers={**headers, **host}, extensions=extensions) as response:
                            # The receiver's body is never read: only its status and Retry-After matter.
                            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
                            return Outcome(claim, response.status_code, error,
                                           retry.after_header(response.headers.get("retry-after")))
                    except httpx.ConnectError:  # not reached at this address: the next one, if any
                        if n == len(urls) - 1:
                            raise
        except guard.Refused as exc:
            return Outcome(claim, None, f"refused: {exc}"[:500])
        except (httpx.TimeoutException, TimeoutError):
            return Outcome(claim, None, f"timeout after {timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(claim, None, f"{type(exc).__name__}: {exc}"[:500])

    def record(self, outcomes: list[Outcome]) -> None:
        now = _now()
        with self._claims.begin() as session:
            for o in outcomes:
                session.execute(update(WebhookAttempt)
                                .where(WebhookAttempt.delivery_id == o.claim.delivery_id,
                                       WebhookAttempt.number == o.claim.number)
                                .values(finished_at=now, status_code=o.status_code, error=o.error))
                delivery = session.get(WebhookDelivery, o.claim.delivery_id)
                # Locked (FOR NO KEY UPDATE: writes queueing deliveries hold KEY SHARE, and do not wait): the round's
                # outcomes are recorded concurrently, and a failure must not judge failing_since before a success
                # on the same endpoint has cleared it.
                endpoint = session.get(WebhookEndpoint, o.claim.endpoint_id, with_for_update={"key_share": True})
                if delivery is None or endpoint is None:  # the subscription was deleted meanwhile
                    continue
                if delivery.attempts != o.claim.number or delivery.status != "pending":
                    continue  # a late answer to a lapsed claim: a later attempt owns the delivery now
                delivery.last_status_code, delivery.last_error = o.status_code, o.error
                if o.ok:
                    delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
                    endpoint.failing_since = None
                    continue
                endpoint.failing_since = endpoint.failing_since or now
                failing_for = (now - endpoint.failing_since).total_seconds()
                if o.status_code == 410:
                    _disable(session, endpoint, "the receiver answered 410 Gone", now)
                elif failing_for >= self.settings.webhooks_disable_after_seconds:
                    _disable(session, endpoint, f"failing since {endpoint.failing_since.isoformat()}", now)
                elif (now - delivery.created_at).total_seconds() >= self.settings.webhooks_disable_after_seconds:
                    # One body always refused while others succeed keeps resetting failing_since: give it up.
                    delivery.status, delivery.next_attempt_at = "failed", None
                    delivery.last_error = (f"gave up after {o.claim.number} attempts over "
                                           f"{self.settings.webhooks_disable_after_seconds:g} s: {o.error}")[:500]
                else:
                    delivery.next_attempt_at = now + timedelta(seconds=retry.delay(o.claim.number, o.retry_after,
                                                                                   self.settings))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite keeps no offset


def _disable(session: Session, endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    """Stop delivering to an endpoint and say why in every delivery it will not get."""
    WEBHOOK_DISABLED.inc()
    endpoint.disabled_at, endpoint.disabled_reason = now, reason
    session.flush()
    session.execute(update(WebhookDelivery)
                    .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
                    .values(status="failed", next_attempt_at=None, last_error=f"endpoint disabled: {reason}"))
    log.warning("webhook endpoint %s disabled: %s", endpoint.id, reason)
