"""Schemathesis fuzzes every operation of the OpenAPI schema: no 500s, responses match the schema.

Driven through Hypothesis directly (one bounded run per operation) rather than the pytest plugin,
which does not support this pytest version.
"""

import os

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from schemathesis import checks

from app.main import create_app
from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "30"))
# CI replays a fixed set of examples so that a red run is reproducible; FUZZ_EXPLORE=1 draws new ones.
EXPLORE = os.environ.get("FUZZ_EXPLORE") == "1"
# What the issue asks: never a server error, and every answer documented and shaped as documented.
# (Schema-valid but semantically wrong input, e.g. an unknown ISO3 code, is rightly a 422.)
# Rules of the contract that JSON Schema cannot state: they relate two fields or two parameters, depend on today or
# on stored data, or on the world (DNS). A request valid by the document is refused only for one of these (the
# docs/api.md lists them under "What the OpenAPI document cannot say"); a refusal for anything else fails the run.
BEYOND_SCHEMA = {
    "is in the future": "today",
    "is before 1800": "a datetime's offset can move its UTC day before 1800",
    "must not be after today": "today",
    "a name needs at least one visible character": "Unicode categories (JSON Schema's regex has none)",
    "civilian_fatalities exceeds fatalities": "two fields",
    "actor2 may be omitted only for actions": "which vocabulary terms mean force (two fields)",
    "unknown ACLED event_type/sub_event_type": "which pairs of two fields exist",
    "describe different acts": "two vocabularies that disagree (two fields)",
    "a and b must differ": "two parameters",
    "from must be on or before to": "two parameters",
    "take a longer step or a shorter range": "three parameters (the number of dates a series holds)",
    "does not affect dyad": "an event and the what-if pair (two fields)",
    "an event cannot respond to itself": "the event it names (stored data)",
    "no event with": "the event it names (stored data)",
    "responds_to names an event later in this request": "the order of a batch's items",
    "the answered event is in source": "the event it names (stored data)",
    "cannot be dated before the event it answers": "the event it names (stored data)",
    "an answer shares at least one of them": "the event it names (stored data)",
    "text is empty": "a report of white space only (Unicode's white space, not JSON Schema's)",
    "text looks binary": "the share of control characters in a report (POST /v1/extract)",
    "does not resolve": "DNS",
    "resolves to a non-public address": "DNS",
}


def _beyond_schema(response) -> bool:
    """A 422 whose every problem is one of BEYOND_SCHEMA."""
    if response.status_code != 422:
        return False
    body = response.json()
    problems = [f"{e['field']}: {e['detail']}" for e in body.get("errors") or []] or [body["detail"]]
    return all(any(rule in problem for rule in BEYOND_SCHEMA) for problem in problems)


@schemathesis.check
def valid_accepted(ctx, response, case):
    """Schema-valid requests are accepted, unless refused for a rule JSON Schema cannot state (BEYOND_SCHEMA)."""
    if _beyond_schema(response):
        return None
    return checks.positive_data_acceptance(ctx, response, case)


CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance, valid_accepted]


def test_every_operation_survives_fuzzing(settings, scorer):
    app = create_app(settings, scorer)
    with TestClient(app) as client:  # runs the lifespan: engine, keys, model
        client.post("/v1/events", json=IRAN_STRIKE)  # so reads of existing ids and dyads are exercised too
        client.post("/v1/events", json=PAKISTAN_RETALIATION)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        # The stream never ends by design: its parameters are checked in tests/risk/test_stream.py.
        operations = [op for op in (result.ok() for result in schema.get_all_operations())
                      if op.path != "/v1/stream"]
        assert len(operations) >= 12
        for operation in operations:

            @given(case=operation.as_strategy())
            @fuzz_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
                           suppress_health_check=list(HealthCheck),
                           database=None, derandomize=not EXPLORE)
            def fuzz(case) -> None:
                case.call_and_validate(checks=CHECKS)

            fuzz()
