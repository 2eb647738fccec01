"""A client generated from the served OpenAPI document by openapi-python-client: no warnings, typed answers.

The document is read from a real `escalation serve` process, the generator runs as users run it (its own
process, ruff post-hooks included), and the generated package is imported and used against that server.
"""

import importlib
import os
import subprocess
import sys
import sysconfig
from datetime import date
from importlib.util import find_spec

import httpx
import pytest

from tests.factories import IRAN_STRIKE, PAKISTAN_RETALIATION
from tests.servers import server

pytestmark = pytest.mark.skipif(
    find_spec("openapi_python_client") is None,
    reason="openapi-python-client is not installed (it is in the `test` extra: pip install -e '.[test]')")

PACKAGE = "escalation_generated"


def generate(document: bytes, tmp_path) -> str:
    """Run the generator on the document; its combined output, asserted to be clean."""
    spec = tmp_path / "openapi.json"
    spec.write_bytes(document)
    # The generator's post-hooks run `ruff` from PATH; a missing ruff is reported as a warning.
    env = {**os.environ, "PATH": os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec),
         "--output-path", str(tmp_path / PACKAGE), "--meta", "none", "--fail-on-warning"],
        check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower(), output
    return output


def test_the_generated_client_has_no_warnings_and_reads_risk_typed(database_url, tmp_path):
    with server(database_url) as base:
        document = httpx.get(f"{base}/openapi.json", timeout=30)
        assert document.status_code == 200
        generate(document.content, tmp_path)

        sys.path.insert(0, str(tmp_path))
        try:
            package = importlib.import_module(PACKAGE)
            get_risk = importlib.import_module(f"{PACKAGE}.api.risk.get_risk")
            models = importlib.import_module(f"{PACKAGE}.models")

            stored = httpx.post(f"{base}/v1/events/batch", json={"items": [IRAN_STRIKE, PAKISTAN_RETALIATION]},
                                timeout=30)
            assert stored.status_code == 200, stored.text

            with package.Client(base_url=base, raise_on_unexpected_status=True) as client:
                risk = get_risk.sync(client=client, a="IRN", b="PAK", as_of=date(2024, 1, 18))
                assert isinstance(risk, models.RiskRead), risk
                assert risk.dyad_id == "IRN--PAK" and risk.event_count == 2
                assert isinstance(risk.probability, float) and 0 < risk.probability < 1
                assert isinstance(risk.interval, models.Interval)
                assert risk.interval.low <= risk.probability <= risk.interval.high

                refused = get_risk.sync_detailed(client=client, a="IRN", b="XXX")
                assert refused.status_code == 422
                assert isinstance(refused.parsed, models.ErrorBody), refused.parsed
                assert (refused.parsed.error, refused.parsed.field) == ("validation_error", "b")
        finally:
            sys.path.remove(str(tmp_path))
            for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
                del sys.modules[name]
