"""Stored events, their revisions, dyads and the event-dyad links."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.database import Base, BigId, UTCDateTime


class Event(Base):
    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("source", "source_event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    source_event_id: Mapped[str] = mapped_column(String(128))
    revision: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor1_name: Mapped[str] = mapped_column(String(200))
    actor1_kind: Mapped[str] = mapped_column(String(16))
    actor1_country: Mapped[str | None] = mapped_column(String(3), index=True)
    actor1_member: Mapped[str] = mapped_column(String(100))
    actor2_name: Mapped[str | None] = mapped_column(String(200))
    actor2_kind: Mapped[str | None] = mapped_column(String(16))
    actor2_country: Mapped[str | None] = mapped_column(String(3), index=True)
    actor2_member: Mapped[str | None] = mapped_column(String(100))
    location_country: Mapped[str] = mapped_column(String(3), index=True)
    location_admin1: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(32))
    hostility: Mapped[int] = mapped_column(SmallInteger)
    event_type: Mapped[str | None] = mapped_column(String(64))
    sub_event_type: Mapped[str | None] = mapped_column(String(64))
    cameo_code: Mapped[str | None] = mapped_column(String(4))
    fatalities: Mapped[int | None] = mapped_column(Integer)
    civilian_fatalities: Mapped[int | None] = mapped_column(Integer)
    injured: Mapped[int | None] = mapped_column(Integer)
    weapons: Mapped[list[str]] = mapped_column(JSON)
    retaliation: Mapped[bool] = mapped_column(Boolean)
    responds_to_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventRevision(Base):
    """Every accepted version of an event's content, the current one included (append-only)."""

    __tablename__ = "event_revision"
    __table_args__ = (UniqueConstraint("event_id", "revision"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # created | revised | retracted
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Dyad(Base):
    __tablename__ = "dyad"

    id: Mapped[str] = mapped_column(String(210), primary_key=True)
    member_a: Mapped[str] = mapped_column(String(100), index=True)
    member_b: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventDyad(Base):
    """An event as one dyad sees it: who initiated within the dyad, and whether the link is territorial."""

    __tablename__ = "event_dyad"
    # A dyad's history by date from the index alone: re-assessment reads a bounded window of it.
    __table_args__ = (Index("ix_event_dyad_dyad_id_occurred_on", "dyad_id", "occurred_on"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    dyad_id: Mapped[str] = mapped_column(ForeignKey("dyad.id"), primary_key=True)
    initiator: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(100))
    territorial: Mapped[bool] = mapped_column(Boolean)
    occurred_on: Mapped[date] = mapped_column(Date)  # the event's, copied so the index above covers it
