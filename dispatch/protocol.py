"""The wire protocol: JSON text frames, one typed message per frame (docs/PROTOCOL.md).

Client → hub: ``hello`` (first frame: token, protocol, last seen seq), ``command``, ``ping``,
``history`` (the stored events of one case), ``catalog`` (the category catalog),
``events_window`` (the whole hall's events of a time window: the hand-over report's source),
``rota`` (who is on duty now).
Hub → client: ``welcome``, ``snapshot`` (chunked), ``events``, ``ack``, ``error``, ``pong``,
``history``, ``catalog``, ``events_window``, ``rota``.
Decoding is strict: a wrong type, a missing or unknown field, an unknown message or op, or an
oversize frame is a :class:`~dispatch.errors.Refusal` with its code — never an exception of
another kind.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from dispatch.catalog import Category
from dispatch.commands import ONE_LINE, OPS, AnyCommand, Id, Instant
from dispatch.errors import ErrorCode, Param, Refusal, refuse
from dispatch.events import Event, EventType
from dispatch.models import Area, Case, Point, Role, Staff, Unit
from dispatch.tracks import PatrolDay, TrackPoint

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 256 * 1024
MAX_BRACKETS = 256
"""``[`` and ``{`` a client frame may hold in all (so its nesting depth is bounded before the
decoder recurses into it); a real command holds a dozen."""
"""Client frames larger than this close the connection (hub frames may be larger: snapshots)."""
SHOWN_CHARS = 100
"""Characters of a refused frame's value echoed back in the error at most."""


class Message(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=True
):
    """Base of every frame."""


# --- client → hub --------------------------------------------------------------------------


class Hello(Message, frozen=True, kw_only=True, tag="hello"):
    """First frame of a connection. ``last_seq``: resume after this event instead of a snapshot."""

    protocol: int
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern=ONE_LINE)]
    last_seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    client: Annotated[str, msgspec.Meta(max_length=100, pattern=ONE_LINE)] = ""


class CommandFrame(Message, frozen=True, kw_only=True, tag="command"):
    command: AnyCommand


class Ping(Message, frozen=True, kw_only=True, tag="ping"):
    pass


class HistoryRequest(Message, frozen=True, kw_only=True, tag="history"):
    """Ask for the stored events of one case; any authenticated operator may (read-only)."""

    id: Id  # echoed in the reply
    case: Id


class CatalogRequest(Message, frozen=True, kw_only=True, tag="catalog"):
    """Ask for the category catalog (codes, names, kinds, default urgency, limits, the
    responsible department): what a bridge maps its own ticket types onto. Any operator."""

    id: Id  # echoed in the reply


WINDOW_PAGE = 1000
"""Events in one ``events_window`` answer at most; ``more`` says to ask again after the last."""


class WindowRequest(Message, frozen=True, kw_only=True, tag="events_window"):
    """Ask for the stored events of a time window of the whole hall (hub time ``since`` ..
    ``until``, default now), of the given ``types`` (default all), in seq order, resuming
    after seq ``after`` (paging). Commanders and dispatchers only (dispatch.roles.READ_WINDOW).
    The hub finds the window's first seq by bisecting the log on ``at`` (monotonic in seq), so
    the cost is the window's, not the log's."""

    id: Id  # echoed in the reply
    since: Instant
    until: Instant | None = None
    types: Annotated[tuple[EventType, ...], msgspec.Meta(max_length=40)] = ()
    after: Annotated[int, msgspec.Meta(ge=0)] | None = None


class RotaRequest(Message, frozen=True, kw_only=True, tag="rota"):
    """Ask who is on duty now per the hall's rota (dispatch/rota.py). Any operator."""

    id: Id  # echoed in the reply


CASES_PAGE = 2000
"""Cases in one ``cases_window`` answer at most; ``more`` says to ask again after the last."""
POSITIONS_MAX = 120
"""Points in one ``position`` report at most (an hour of a point every 30 s, and some)."""


class CasesRequest(Message, frozen=True, kw_only=True, tag="cases_window"):
    """Ask for the stored cases **reported** in [``since``, ``until``) — open or finished, as
    they stand now — in case id order, resuming after case id ``after`` (paging): the monthly
    assessment's source, for finished cases older than the hub keeps in memory. Commanders
    and dispatchers get them whole, observers redacted (dispatch.roles.READ_CASES)."""

    id: Id  # echoed in the reply
    since: Instant
    until: Instant
    after: Id | None = None


class PositionReport(Message, frozen=True, kw_only=True, tag="position"):
    """A grid worker's terminal reports where the worker was (oldest first): the hub stores
    the points thinned (dispatch.tracks.keeps) as the worker's patrol track, and sets the
    person's last position. Unit terminals for a person of their own unit, and the hall."""

    id: Id  # echoed in the reply
    staff: Id
    points: Annotated[tuple[TrackPoint, ...], msgspec.Meta(min_length=1, max_length=120)]


class TracksRequest(Message, frozen=True, kw_only=True, tag="tracks"):
    """Ask for the patrol of a day of the hall's calendar: per grid worker (``staff``, empty:
    everyone with a track that day) the patrol and inside-own-grid minutes and the
    short-patrol flag, and with ``points`` the stored track itself. Commanders, dispatchers
    and observers (dispatch.roles.READ_TRACKS)."""

    id: Id  # echoed in the reply
    day: date
    staff: Annotated[tuple[Id, ...], msgspec.Meta(max_length=2000)] = ()
    points: bool = False


ClientMessage = (
    Hello
    | CommandFrame
    | Ping
    | HistoryRequest
    | CatalogRequest
    | WindowRequest
    | RotaRequest
    | CasesRequest
    | PositionReport
    | TracksRequest
)

# --- hub → client --------------------------------------------------------------------------


class Welcome(Message, frozen=True, kw_only=True, tag="welcome"):
    protocol: int
    operator: str
    role: Role
    unit: str | None  # the operator's own unit (standby and unit roles)
    hub_time: datetime
    seq: int  # the last event in the log now
    resync: str  # "snapshot" (chunks follow) or "events" (the missed events follow)
    speed: float = 1.0  # hub clock rate (demo mode runs faster)


class Snapshot(Message, frozen=True, kw_only=True, tag="snapshot"):
    """Hall state as of ``seq``, in ``chunks`` frames; apply events with seq > this after."""

    seq: int
    chunk: int
    chunks: int
    areas: list[Area] = []
    units: list[Unit] = []
    staff: list[Staff] = []
    cases: list[Case] = []


class Events(Message, frozen=True, kw_only=True, tag="events", omit_defaults=True):
    """Events in seq order, gap-free across frames of one connection — or, to a role-scoped
    client, with ``after`` and ``seq``: the frame covers the stream from ``after`` (exclusive)
    to ``seq`` (inclusive) and holds only the events of that span the client may see (maybe
    none). ``after`` is always the ``seq`` of the frame before (or ``welcome.seq``)."""

    events: list[Event]
    after: int | None = None
    seq: int | None = None


class Ack(Message, frozen=True, kw_only=True, tag="ack"):
    command: str  # the command id
    seq: int  # the last event the command wrote (its events are sent before the ack)
    case: str | None = None
    version: int | None = None
    replayed: bool = False  # true when the id was applied before: nothing new happened


class Error(Message, frozen=True, kw_only=True, tag="error"):
    """A refused frame or command. ``detail`` names the rule (``dispatch.errors.DETAILS``) and
    ``params`` the values its English template is formatted with, for clients that show the
    refusal in another language; ``message`` is that English text."""

    code: ErrorCode
    message: str
    command: str | None = None
    detail: str | None = None
    params: dict[str, Param] = {}


class Pong(Message, frozen=True, kw_only=True, tag="pong"):
    hub_time: datetime


class History(Message, frozen=True, kw_only=True, tag="history"):
    """The answer to a ``history`` request: the case's events, oldest first (seq order)."""

    id: str  # the request id
    case: str
    events: list[Event]


class Categories(Message, frozen=True, kw_only=True, tag="catalog"):
    """The answer to a ``catalog`` request: every small category the hub knows."""

    id: str  # the request id
    categories: list[Category]


class Window(Message, frozen=True, kw_only=True, tag="events_window"):
    """The answer to an ``events_window`` request: the window is seqs ``first`` .. ``last``
    (``first`` > ``last``: no event in it); ``events`` those of them of the asked types, at
    most :data:`WINDOW_PAGE`, from after ``after``; ``more``: ask again with ``after`` = the
    last seq here."""

    id: str  # the request id
    since: datetime
    until: datetime
    first: int
    last: int
    events: list[Event]
    more: bool = False


class OnDutyNow(Message, frozen=True, kw_only=True, tag="rota"):
    """The answer to a ``rota`` request, at hub time ``at``: the duty day, its shift, the duty
    commander and each listed unit's standby order, and when the shift next changes. Without a
    rota: ``day``, ``shift``, ``commander`` and ``next_change`` null, ``standby`` empty."""

    id: str  # the request id
    at: datetime
    day: str | None = None  # the duty day, "YYYY-MM-DD"
    shift: str | None = None  # "day" or "standby"
    commander: str | None = None
    standby: dict[str, list[str]] = {}  # unit id → staff ids, first called first
    next_change: datetime | None = None


class Cases(Message, frozen=True, kw_only=True, tag="cases_window"):
    """The answer to a ``cases_window`` request: at most :data:`CASES_PAGE` cases by id;
    ``more``: ask again with ``after`` = the last id here."""

    id: str  # the request id
    since: datetime
    until: datetime
    cases: list[Case]
    more: bool = False


class PositionTaken(Message, frozen=True, kw_only=True, tag="position"):
    """The answer to a ``position`` report: how many of its points were stored (the rest were
    within the thinning distance and time of the last stored one, or older than it)."""

    id: str  # the request id
    kept: int


class Tracks(Message, frozen=True, kw_only=True, tag="tracks"):
    """The answer to a ``tracks`` request: one :class:`~dispatch.tracks.PatrolDay` per worker,
    by staff id, and their stored points when asked."""

    id: str  # the request id
    day: date
    minimum_minutes: int  # the configured patrol minimum the ``short`` flag is against
    patrols: list[PatrolDay]
    points: dict[str, list[TrackPoint]] = {}


class Positions(Message, frozen=True, kw_only=True, tag="positions"):
    """Live, at most once a second, to commanders, dispatchers and observers only: the last
    position of each person whose track moved since the previous frame. Not an event (no
    ``seq``, not in the log): positions are coalesced so a thousand terminals reporting every
    30 s cost the fan-out one small frame a second."""

    at: datetime
    positions: dict[str, Point]


HubMessage = (
    Welcome
    | Snapshot
    | Events
    | Ack
    | Error
    | Pong
    | History
    | Categories
    | Window
    | OnDutyNow
    | Cases
    | PositionTaken
    | Tracks
    | Positions
)

_client_decoder: msgspec.json.Decoder[ClientMessage] = msgspec.json.Decoder(ClientMessage)
_hub_decoder: msgspec.json.Decoder[HubMessage] = msgspec.json.Decoder(HubMessage)
_encoder = msgspec.json.Encoder()


def encode(message: Message) -> bytes:
    return _encoder.encode(message)


def decode_client(frame: bytes | str, max_bytes: int = MAX_FRAME_BYTES) -> ClientMessage:
    """Decode one client frame, or raise a :class:`Refusal` saying exactly what is wrong —
    never another exception, whatever the bytes (a decoder that raised once closed the
    connection with 1011 and logged a traceback per frame)."""
    data = frame.encode() if isinstance(frame, str) else frame
    if len(data) > max_bytes:
        raise refuse("frame_too_large", size=len(data), limit=max_bytes)
    # Bounded before decoding: nesting costs the decoder recursion. The deepest real frame
    # nests four levels; this counts every bracket, so it bounds the depth at a C-speed scan.
    brackets = data.count(b"[") + data.count(b"{")
    if brackets > MAX_BRACKETS:
        raise refuse("too_nested", limit=MAX_BRACKETS)
    try:
        return _client_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise _classify(data, exc) from None
    # DecodeError, and UnicodeDecodeError for bytes that are not UTF-8 (both ValueErrors).
    except (ValueError, RecursionError) as exc:
        raise refuse("not_json", error=str(exc)) from None


def _untyped(frame: bytes) -> tuple[Any, str | None]:
    """The frame as plain JSON values, or why it is not JSON at all (a typed decode may stop at
    an unknown field before it reaches the broken part: a cut frame, a number out of range)."""
    try:
        return msgspec.json.decode(frame), None
    except (ValueError, RecursionError) as exc:  # msgspec's errors, and not UTF-8
        return None, str(exc)


_REQUESTS = ("history", "catalog", "events_window", "rota", "cases_window", "position", "tracks")
"""Client frame types that carry a request ``id`` echoed in the answer (or the error)."""


def command_id_of(frame: bytes | str) -> str | None:
    """Best effort: the command id in a frame that failed validation, to tag the error."""
    raw, _ = _untyped(frame.encode() if isinstance(frame, str) else frame)
    if isinstance(raw, dict) and isinstance(raw.get("command"), dict):
        cid = raw["command"].get("id")
        return cid if isinstance(cid, str) and len(cid) <= 64 else None
    if isinstance(raw, dict) and raw.get("type") in _REQUESTS:
        rid = raw.get("id")
        return rid if isinstance(rid, str) and len(rid) <= 64 else None
    return None


def _classify(frame: bytes, exc: msgspec.ValidationError) -> Refusal:
    raw, unreadable = _untyped(frame)
    if unreadable is not None:
        return refuse("not_json", error=unreadable)
    if not isinstance(raw, dict):
        return refuse("not_an_object")
    kind = raw.get("type")
    if kind not in ("hello", "command", "ping", *_REQUESTS):
        return refuse("unknown_message", type=_shown(kind))
    if kind == "command":
        body = raw.get("command")
        if isinstance(body, dict) and body.get("op") not in OPS:
            return refuse("unknown_op", op=_shown(body.get("op")))
    return refuse("invalid_frame", error=str(exc))


def _shown(value: Any) -> str:
    """A value from a refused frame as text for the error: a string as it is, anything else
    as JSON; cut short, as it is the sender's input echoed back."""
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return text[:SHOWN_CHARS]


def decode_hub(frame: bytes | str) -> HubMessage:
    """Decode one hub frame (clients use this); raises ``msgspec`` errors on a bad hub."""
    return _hub_decoder.decode(frame)
