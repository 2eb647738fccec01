"""Operation ids are plain, unique snake_case names, so clients generated in any language read well."""

import re
from collections import Counter


def test_operation_ids_are_readable_and_unique(client):
    ids = [op["operationId"] for path in client.get("/openapi.json").json()["paths"].values()
           for op in path.values()]
    assert "post_event" in ids and "stream_assessments" in ids and "create_webhook" in ids
    assert [i for i in ids if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) or "_v1_" in i] == []
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_the_risk_level_is_one_component(client):
    """A generated client gets one `Level` type, not four inlined enums named after each parameter (issue 25)."""
    document = client.get("/openapi.json").text
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["Level"]["enum"] == ["low", "elevated", "high", "critical"]
    assert document.count('"critical"') == 1  # the enum is written out once, referenced everywhere else
    assert schemas["RiskRead"]["properties"]["level"]["$ref"] == "#/components/schemas/Level"
