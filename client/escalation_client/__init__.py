"""Python client for the escalation-risk service: `EscalationClient` (sync) and `AsyncEscalationClient`."""

from escalation_client.aio import AsyncEscalationClient
from escalation_client.errors import EscalationError
from escalation_client.models import (Assessment, AssessmentPage, BatchResult, Driver, Dyad, Explanation,
                                      ItemResult, Risk)
from escalation_client.sync import EscalationClient

__all__ = ["Assessment", "AssessmentPage", "AsyncEscalationClient", "BatchResult", "Driver", "Dyad",
           "EscalationClient", "EscalationError", "Explanation", "ItemResult", "Risk"]
