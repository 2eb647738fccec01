"""Python client for the escalation-risk service: `EscalationClient` (sync) and `AsyncEscalationClient`."""

from escalation_client.aio import AsyncEscalationClient
from escalation_client.errors import (Conflict, EscalationError, Forbidden, InvalidRequest, NotFound, RateLimited,
                                      ServerError, Timeout, Unauthorized, Unreachable)
from escalation_client.models import (Actor, Assessment, AssessmentPage, BatchResult, Driver, Dyad, Event,
                                      Explanation, ItemResult, Location, Risk, RiskSeries, SeriesPoint,
                                      assessments_frame, dyads_frame)
from escalation_client.sync import EscalationClient

__all__ = ["Actor", "Assessment", "AssessmentPage", "AsyncEscalationClient", "BatchResult", "Conflict", "Driver",
           "Dyad", "EscalationClient", "EscalationError", "Event", "Explanation", "Forbidden", "InvalidRequest",
           "ItemResult", "Location", "NotFound", "RateLimited", "Risk", "RiskSeries", "SeriesPoint", "ServerError",
           "Timeout", "Unauthorized", "Unreachable", "assessments_frame", "dyads_frame"]
