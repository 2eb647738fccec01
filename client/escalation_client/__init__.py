"""Python client for the escalation-risk service: `EscalationClient` (sync) and `AsyncEscalationClient`."""

from escalation_client.aio import AsyncEscalationClient
from escalation_client.errors import (Conflict, EscalationError, Forbidden, InvalidRequest, NotFound, RateLimited,
                                      ServerError, Timeout, Unauthorized, Unreachable)
from escalation_client.models import (Assessment, AssessmentPage, BatchResult, Driver, Dyad, Explanation,
                                      ItemResult, Risk, RiskSeries, SeriesPoint)
from escalation_client.sync import EscalationClient

__all__ = ["Assessment", "AssessmentPage", "AsyncEscalationClient", "BatchResult", "Conflict", "Driver", "Dyad",
           "EscalationClient", "EscalationError", "Explanation", "Forbidden", "InvalidRequest", "ItemResult",
           "NotFound", "RateLimited", "Risk", "RiskSeries", "SeriesPoint", "ServerError", "Timeout", "Unauthorized", "Unreachable"]
