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
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


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
