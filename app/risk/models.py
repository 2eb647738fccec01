"""Assessments (append-only; their ids are the change feed's order) and each dyad's latest-assessment pointer."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, BigId, UTCDateTime


class Assessment(Base):
    __tablename__ = "assessment"
    __table_args__ = (Index("ix_assessment_dyad_id_as_of", "dyad_id", "as_of"),
                      Index("ix_assessment_dyad_id_id", "dyad_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dyad_id: Mapped[str] = mapped_column(ForeignKey("dyad.id"))
    as_of: Mapped[date] = mapped_column(Date)
    probability: Mapped[float] = mapped_column(Float)  # the primary target's
    probabilities: Mapped[dict] = mapped_column(JSON)  # every target's, by name
    # {low, high, level} around `probability` (app.ml.risk_model); null on rows made before it existed
    interval: Mapped[dict | None] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(16))
    drivers: Mapped[list] = mapped_column(JSON)
    features: Mapped[dict | None] = mapped_column(JSON)  # the model's inputs; null on rows made before 0002
    # {unit, baseline, contributions}: sums to the log-odds of `probability`; null on rows made before it existed
    explanation: Mapped[dict | None] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(64))
    trigger_event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(16))  # created | revised | retracted | relinked | backdated | contagion
    last_event_on: Mapped[date | None] = mapped_column(Date)
    event_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The events this assessment's transaction created, revised or retracted in the dyad's history, id order (every
    # change to a dyad's history stores an assessment of it): what another worker's cached window catches up
    # with (app.risk.service). Null on rows made before it existed.
    changed_event_ids: Mapped[list | None] = mapped_column(JSON, deferred=True)


# What the feed, the stream and webhooks read of an assessment: every column but the write path's own bookkeeping.
PUBLISHED = tuple(c for c in Assessment.__table__.c if c.name != "changed_event_ids")


class DyadRisk(Base):
    """Which assessment is a dyad's latest: one row per assessed dyad, updated with each assessment."""

    __tablename__ = "dyad_risk"

    dyad_id: Mapped[str] = mapped_column(ForeignKey("dyad.id"), primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"))
    probability: Mapped[float] = mapped_column(Float, index=True)
    level: Mapped[str] = mapped_column(String(16))
    last_event_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
