"""The hub's tables as SQLAlchemy 2 typed models.

Rows keep a ``data`` column with the whole domain struct as msgspec JSON, so a row turns back
into exactly the struct that was stored; the other columns copy the fields the hub filters
and indexes on. Enumerations are stored as their string values (no database enum types, so a
new status is not a migration). Timestamps are timezone-aware UTC on every dialect.

Schema changes go through Alembic (``hub/migrations``); ``tests/hub`` checks the migrations
produce exactly this metadata.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored as UTC and always read back aware in UTC.

    SQLite has no time zone storage, so SQLAlchemy writes the wall time and drops ``tzinfo``;
    converting to UTC first and tagging on the way out makes every dialect agree.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the hub stores aware UTC timestamps")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Column kinds used more than once.
Ident = Annotated[str, "ident"]  # ids and codes: case ids, grid codes, unit ids, operator names
Tag = Annotated[str, "tag"]  # an enumeration's value
Label = Annotated[str, "label"]  # a short human name
LongText = Annotated[str, "long_text"]  # free text and JSON documents
Digest = Annotated[str, "digest"]  # hex digests
JsonDict = dict[str, Any]
Seq = Annotated[int, "seq"]

# BIGINT on PostgreSQL (the log outlives 2^31 events); INTEGER on SQLite, where an INTEGER
# PRIMARY KEY is the rowid itself and costs no second index.
SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")
JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Ident: String(64),
        Tag: String(32),
        Label: String(200),
        LongText: Text(),
        Digest: String(128),
        JsonDict: JSON_TYPE,
        Seq: SEQ_TYPE,
    }


class AreaRow(Base):
    """A node of the place tree (``dispatch.models.Area``)."""

    __tablename__ = "areas"

    code: Mapped[Ident] = mapped_column(primary_key=True)
    name: Mapped[Label]
    kind: Mapped[Tag]
    parent: Mapped[Ident | None]
    data: Mapped[LongText]


class UnitRow(Base):
    """A department or locality (``dispatch.models.Unit``)."""

    __tablename__ = "units"

    id: Mapped[Ident] = mapped_column(primary_key=True)
    name: Mapped[Label]
    kind: Mapped[Tag]
    parent: Mapped[Ident | None]
    data: Mapped[LongText]


class StaffRow(Base):
    """A person on the roster (``dispatch.models.Staff``)."""

    __tablename__ = "staff"

    id: Mapped[Ident] = mapped_column(primary_key=True)
    name: Mapped[Label]
    unit: Mapped[Ident]
    shift: Mapped[Tag]
    duty: Mapped[Tag]
    version: Mapped[int]
    data: Mapped[LongText]


class CaseRow(Base):
    """One case (``dispatch.models.Case``) at its latest version."""

    __tablename__ = "cases"

    id: Mapped[Ident] = mapped_column(primary_key=True)
    status: Mapped[Tag] = mapped_column(index=True)
    urgency: Mapped[Tag]
    category: Mapped[Ident]
    kind: Mapped[Tag]
    source: Mapped[Tag]
    grid: Mapped[Ident | None]
    level: Mapped[Tag]
    owner_unit: Mapped[Ident | None] = mapped_column(index=True)
    owner_staff: Mapped[Ident | None]
    # Indexed for ``cases_window`` (the monthly assessment reads a month of reports).
    reported_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    version: Mapped[int]
    data: Mapped[LongText]


class EventRow(Base):
    """One fact of the append-only log. The engine assigns ``seq``; the store never updates or
    deletes a row here, and a second writer reusing a seq fails on the primary key."""

    __tablename__ = "events"

    seq: Mapped[Seq] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[Ident]
    type: Mapped[Tag]
    case: Mapped[Ident | None] = mapped_column(index=True)
    staff: Mapped[Ident | None]
    command: Mapped[Ident | None]
    reason: Mapped[LongText]
    changes: Mapped[JsonDict]
    data: Mapped[JsonDict]


class CommandRow(Base):
    """A command that was applied: the idempotency record a retried command is answered from."""

    __tablename__ = "commands"

    id: Mapped[Ident] = mapped_column(primary_key=True)
    digest: Mapped[Digest]
    actor: Mapped[Ident]
    seq: Mapped[Seq] = mapped_column(index=True)  # the newest ids are read at start
    case: Mapped[Ident | None]
    version: Mapped[int | None]
    at: Mapped[datetime]


class TrackPointRow(Base):
    """One stored position of a person's patrol track (thinned: dispatch.tracks.keeps). Not
    an event: positions are many and short-lived, kept ``assessment.track_retention_days``."""

    __tablename__ = "track_points"
    __table_args__ = (Index("ix_track_points_staff_at", "staff", "at"),)

    id: Mapped[Seq] = mapped_column(primary_key=True, autoincrement=True)
    staff: Mapped[Ident]
    at: Mapped[datetime] = mapped_column(index=True)  # the retention prune deletes by age
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)


class PatrolDayRow(Base):
    """A grid worker's patrol of one day of the hall's calendar, counted as its points are
    stored (dispatch.tracks.PatrolTally) — so a day's or a month's figures are read from one
    row per worker and day, never from the points — with the last point, to go on counting
    after a restart."""

    __tablename__ = "patrol_days"

    staff: Mapped[Ident] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    points: Mapped[int]
    patrol_minutes: Mapped[float] = mapped_column(Float)
    inside_minutes: Mapped[float] = mapped_column(Float)
    last_at: Mapped[datetime]
    last_lon: Mapped[float] = mapped_column(Float)
    last_lat: Mapped[float] = mapped_column(Float)
    last_inside: Mapped[bool]


class OperatorRow(Base):
    """Someone allowed to connect. Only the sha256 of the token is kept."""

    __tablename__ = "operators"

    name: Mapped[Ident] = mapped_column(primary_key=True)
    token_hash: Mapped[Digest] = mapped_column(unique=True)
    role: Mapped[Tag]
    unit: Mapped[Ident | None]
    enabled: Mapped[bool]
    created_at: Mapped[datetime]


class RotaRow(Base):
    """The hall's rota (``dispatch.rota.Rota``), one JSON document under the id ``hall``;
    every change to it is also a ``rota_changed`` event in the log."""

    __tablename__ = "rota"

    id: Mapped[Ident] = mapped_column(primary_key=True)
    data: Mapped[LongText]


__all__ = [
    "AreaRow",
    "Base",
    "CaseRow",
    "CommandRow",
    "EventRow",
    "OperatorRow",
    "PatrolDayRow",
    "RotaRow",
    "StaffRow",
    "TrackPointRow",
    "UTCDateTime",
    "UnitRow",
]
