"""The command verbs: one grammar shared by the console's ``:`` line and ``griddesk ctl``.

``parse`` turns a line such as ``assign 0042 城管一中队 张伟`` into the typed command the hub
takes (with a fresh id and the case version the mirror holds), or into a :class:`ReadVerb`
(``list``, ``show``, ``roster``) that the caller answers from its mirror. ``usage`` prints the
table behind ``?``. Names are resolved by ``console.names``; ``console.completion`` offers the
words that may come next. Pure: it imports ``dispatch`` only, so it is tested without a hub or
a UI.

Free text (REASON…, NOTE…) is the rest of the line. Two verbs need a rule to tell an optional
word from the start of the text:

- ``reassign ID UNIT [STAFF] REASON…``: the word after UNIT is STAFF only if it is exactly the
  id or the full name of a person of that unit; otherwise it starts the reason. ``--`` after
  UNIT (or after STAFF) ends the names explicitly: ``reassign 0042 城管一中队 -- 张伟不在岗``.
- ``joint ID LEAD SUPPORT[,SUPPORT…] [REASON…]``: supporting units are one comma-separated
  word (``,``, ``，`` or ``、``).
"""

from __future__ import annotations

import difflib
import re
import shlex
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypedDict, TypeVar

from console.names import (
    Lookup,
    VerbError,
    members,
    resolve_area,
    resolve_case,
    resolve_category,
    resolve_staff,
    resolve_unit,
)
from dispatch.commands import (
    Accept,
    Acknowledge,
    Approve,
    Arrive,
    BlowWhistle,
    Callback,
    Check,
    Close,
    Command,
    Dispatch,
    Escalate,
    HandoverAck,
    HandoverNote,
    Instruct,
    Intake,
    Joint,
    Merge,
    Note,
    Reassign,
    Refuse,
    Reject,
    ReportBack,
    ReportIn,
    RequestExtension,
    RequestPark,
    RequestReturn,
    RequestVoid,
    Resume,
    Rework,
    RotaCommander,
    RotaStandby,
    RotaSwap,
    SendDown,
    ShiftChange,
    StaffStatus,
    Urge,
    Verify,
)
from dispatch.models import (
    Case,
    Duty,
    Field,
    Kind,
    Level,
    RequestKind,
    Shift,
    Source,
    Unit,
    Urgency,
)
from dispatch.queues import QUEUE_WORDS, Queue, parse_queue

_URGENCY_WORDS: Mapping[str, Urgency] = {
    "urgent": Urgency.URGENT,
    "general": Urgency.GENERAL,
    "紧急": Urgency.URGENT,
    "一般": Urgency.GENERAL,
}
_YES_WORDS: Mapping[str, bool] = {
    "yes": True,
    "y": True,
    "是": True,
    "no": False,
    "n": False,
    "否": False,
}
# 回访's answers: (satisfied, reopen as rework); "reopen" is 不满意 sending the case back.
_CALLBACK_WORDS: Mapping[str, tuple[bool, bool]] = {
    "yes": (True, False),
    "y": (True, False),
    "是": (True, False),
    "no": (False, False),
    "n": (False, False),
    "否": (False, False),
    "reopen": (False, True),
    "返工": (False, True),
}
_PASS_WORDS: Mapping[str, bool] = {
    "pass": True,
    "passed": True,
    "通过": True,
    "fail": False,
    "failed": False,
    "不通过": False,
}
_DUTY_WORDS: Mapping[str, Duty] = {
    "on": Duty.ON_DUTY,
    "on_duty": Duty.ON_DUTY,
    "在岗": Duty.ON_DUTY,
    "off": Duty.OFF,
    "下班": Duty.OFF,
    "standby": Duty.STANDBY,
    "备勤": Duty.STANDBY,
}
_FIELD_WORDS: Mapping[str, Field] = {
    **{f.value: f for f in Field},
    "空闲": Field.AVAILABLE,
    "途中": Field.EN_ROUTE,
    "现场": Field.ON_SCENE,
    "忙碌": Field.BUSY,
    "离线": Field.OFFLINE,
}
_SHIFT_WORDS: Mapping[str, Shift] = {
    "day": Shift.DAY,
    "白班": Shift.DAY,
    "standby": Shift.STANDBY,
    "备勤": Shift.STANDBY,
}
_SOURCE_WORDS: Mapping[str, Source] = {
    **{s.value: s for s in Source},
    "巡查": Source.PATROL,
    "随手拍": Source.PHOTO,
    "12345": Source.HOTLINE,
    "视频": Source.VIDEO,
    "警情": Source.POLICE,
}
_KIND_WORDS: Mapping[str, Kind] = {
    **{k.value: k for k in Kind},
    "部件": Kind.COMPONENT,
    "事件": Kind.EVENT,
}
_REQUEST_WORDS: Mapping[str, str] = {
    **{k.value: k.value for k in RequestKind},
    "退单": "return",
    "延期": "extension",
    "挂账": "park",
    "作废": "void",
}
_LOWER_LEVEL_WORDS: Mapping[str, Level] = {
    "community": Level.COMMUNITY,
    "street": Level.STREET,
    "district": Level.DISTRICT,
    "社区": Level.COMMUNITY,
    "街道": Level.STREET,
    "区": Level.DISTRICT,
}
_MINUTES_WORD = re.compile(r"\d+[mhd]?", re.IGNORECASE)
_MAX_MINUTES = 60 * 24 * 30
_MAX_WHISTLE_MINUTES = 60 * 24
_UNIT_SEPARATORS = re.compile(r"[,，、]")
_END_OF_NAMES = "--"


@dataclass(frozen=True)
class Verb:
    """One verb of the grammar. ``slots`` name what each word after the verb is, for
    completion: ``case``, ``unit``, ``units`` (comma list), ``staff`` (of the unit before it),
    ``person`` (anyone), ``category``, ``text``, or a choice set ``a|b|c``; ``x/y`` offers
    both kinds (an optional word)."""

    name: str
    aliases: tuple[str, ...]
    usage: str
    help: str
    op: str | None  # the command op, or None for a read verb
    slots: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadVerb:
    """A verb answered from the mirror, with its arguments resolved to ids.

    ``list``: (queue id, a :class:`dispatch.queues.Queue` value); ``show``, ``suggest`` and
    ``rollcall``: (case id,); ``roster``: () or (unit id,); ``rota``: () (asked of the hub by
    ``ctl``; the console shows who stands by from its roster)."""

    name: str
    args: tuple[str, ...] = ()


VERBS: tuple[Verb, ...] = (
    Verb("accept", ("立案",), "accept ID [CATEGORY] [urgent|general]",
         "立案 accept a reported case, optionally correcting category and urgency",
         "accept", ("case", "category/urgency", "urgent|general")),
    Verb("reject", ("不予立案",), "reject ID REASON…", "不予立案 reject a reported case",
         "reject", ("case", "text")),
    Verb("verify", ("核实",), "verify ID yes|no [NOTE…]",
         "核实 on-site verification of a public report (no voids it)",
         "verify", ("case", "yes|no", "text")),
    Verb("assign", ("dispatch", "派遣"), "assign ID UNIT [STAFF]",
         "派遣 dispatch an accepted case to a unit and optionally a person",
         "dispatch", ("case", "unit", "staff")),
    Verb("reassign", ("改派",), "reassign ID UNIT [STAFF] [--] REASON…",
         "改派 to another unit/person; STAFF only if it is the exact name or id of a "
         "person of UNIT, `--` ends the names",
         "reassign", ("case", "unit", "staff", "text")),
    Verb("ack", ("acknowledge", "签收"), "ack ID", "签收 the unit signs for the case",
         "acknowledge", ("case",)),
    Verb("arrive", ("到场",), "arrive ID", "到场 on scene", "arrive", ("case",)),
    Verb("report", ("反馈",), "report ID RESULT…", "处置反馈 the unit reports the result",
         "report_back", ("case", "text")),
    Verb("check", ("核查",), "check ID pass|fail [NOTE…]",
         "核查 on-site check of the result (fail sends it back: note required)",
         "check", ("case", "pass|fail", "text")),
    Verb("rework", ("返工",), "rework ID REASON…", "返工 back to the same unit",
         "rework", ("case", "text")),
    Verb("close", ("结案",), "close ID [NOTE…]", "结案 close a checked case",
         "close", ("case", "text")),
    Verb("callback", ("回访",), "callback ID yes|no|reopen [NOTE…]",
         "回访 the reporter satisfied (yes), not (no), or not and reopen as rework (reopen)",
         "callback", ("case", "yes|no|reopen", "text")),
    Verb("escalate", ("上报",), "escalate ID REASON…", "上报 one level up",
         "escalate", ("case", "text")),
    Verb("urge", ("督办", "催办"), "urge ID [REASON…]", "督办 urge the owning unit",
         "urge", ("case", "text")),
    Verb("joint", ("联合执法",), "joint ID LEAD SUPPORT[,SUPPORT…] [REASON…]",
         "联合执法 a lead unit plus supporting units", "joint",
         ("case", "unit", "units", "text")),
    Verb("note", ("备注",), "note ID TEXT…", "备注 a note in the case history",
         "note", ("case", "text")),
    Verb("return", ("退单",), "return ID REASON…", "退单 the unit asks to return the case",
         "request_return", ("case", "text")),
    Verb("extend", ("extension", "延期"), "extend ID MINUTES REASON…",
         "延期 the unit asks for more time (240, 90m, 4h, 2d)",
         "request_extension", ("case", "minutes", "text")),
    Verb("park", ("挂账",), "park ID REASON…", "挂账 the unit asks to park the case",
         "request_park", ("case", "text")),
    Verb("void", ("作废",), "void ID REASON…", "作废 the unit asks to void the case",
         "request_void", ("case", "text")),
    Verb("approve", ("批准",), "approve ID return|extension|park|void",
         "批准 approve the unit's pending request", "approve",
         ("case", "return|extension|park|void")),
    Verb("refuse", ("驳回",), "refuse ID return|extension|park|void REASON…",
         "驳回 refuse the unit's pending request", "refuse",
         ("case", "return|extension|park|void", "text")),
    Verb("resume", ("恢复",), "resume ID", "恢复 take a parked case back",
         "resume", ("case",)),
    Verb("merge", ("合并",), "merge ID INTO", "合并 merge a duplicate into an open case",
         "merge", ("case", "case")),
    Verb("instruct", ("批办", "批示"), "instruct ID [MINUTES] TEXT…",
         "批办 an instruction on the case, with its own deadline (90m, 2h) when given",
         "instruct", ("case", "text")),
    Verb("senddown", ("send_down", "下派", "退回下级"),
         "senddown ID [community|street|district] REASON…",
         "back down the chain: one level, or to the level named",
         "send_down", ("case", "community|street|district", "text")),
    Verb("whistle", ("吹哨",), "whistle ID UNIT[,UNIT…] MINUTES [REASON…]",
         "吹哨 summon units to the case, each to report in within MINUTES (30, 2h)",
         "whistle", ("case", "units", "minutes", "text")),
    Verb("reportin", ("report_in", "报到"), "reportin ID UNIT",
         "报到 a summoned unit reports in (its terminal, or the hall on its behalf)",
         "report_in", ("case", "unit")),
    Verb("rollcall", ("点名",), "rollcall ID",
         "点名 the roll call of the case's whistle: in time, late, never", None, ("case",)),
    Verb("intake", ("登记",),
         "intake --category C --source S --title T [--kind K] [--grid G] [--description D] "
         "[--address A] [--reporter R] [--urgent|--general]",
         "登记 register a new case", "intake", ()),
    Verb("staff", ("人员",),
         "staff STAFF [on|off|standby] [available|en_route|on_scene|busy|offline]",
         "a person's duty and/or field status", "staff_status",
         ("person", "on|off|standby|available|en_route|on_scene|busy|offline",
          "available|en_route|on_scene|busy|offline")),
    Verb("shift", ("交班",), "shift day|standby", "交班 hand over to the day or standby shift",
         "shift_change", ("day|standby",)),
    Verb("handnote", ("交班记录",), "handnote NOTE…",
         "交班记录 the outgoing commander's note for the next shift", "handover_note",
         ("text",)),
    Verb("takeover", ("接班",), "takeover SINCE UNTIL OUTGOING",
         "接班 acknowledge the hand-over of SINCE..UNTIL (ISO times with offset) from OUTGOING; "
         "the H screen and `griddesk handover --ack` show the report first",
         "handover_ack", ("time", "time", "text")),
    Verb("swap", ("换班",), "swap DATE STAFF STAFF [REASON…]",
         "换班 two people swap their standby duty on a duty day (YYYY-MM-DD)", "rota_swap",
         ("text", "person", "person", "text")),
    Verb("standby", ("备勤",), "standby DATE UNIT STAFF[,STAFF…] [REASON…]",
         "备勤 a unit's standby order on a duty day, first called first", "rota_standby",
         ("text", "unit", "text", "text")),
    Verb("commander", ("指挥长",), "commander DATE NAME [REASON…]",
         "指挥长 the hall's duty commander on a duty day", "rota_commander",
         ("text", "text", "text")),
    Verb("rota", ("排班",), "rota",
         "who is on duty now: the shift, the duty commander, each unit's standby", None),
    Verb("list", ("ls", "列表"), f"list [{'|'.join(QUEUE_WORDS)}]",
         "the cases of a queue, as on the board's tab (default all)", None,
         ("|".join(QUEUE_WORDS),)),
    Verb("show", ("案件",), "show ID", "a case's fields and deadlines", None, ("case",)),
    Verb("roster", ("值班表",), "roster [UNIT]", "staff, all or of one unit", None, ("unit",)),
    Verb("suggest", ("推荐",), "suggest ID",
         "where routing would send a case and who could go, with why", None, ("case",)),
)  # fmt: skip

BY_WORD: Mapping[str, Verb] = {w: v for v in VERBS for w in (v.name, *v.aliases)}


# --- parsing -------------------------------------------------------------------------------


def split(line: str) -> list[str]:
    """Shell-like words (quotes group words; Chinese text and the ideographic space work)."""
    try:
        return shlex.split(line.replace("\u3000", " "))
    except ValueError as exc:  # an unclosed quote
        raise VerbError("cannot read the line: {error}", error=str(exc)) from None


def verb_named(word: str) -> Verb:
    try:
        return BY_WORD[word.lower()]
    except KeyError:
        near = difflib.get_close_matches(word.lower(), list(BY_WORD), n=3)
        if near:
            raise VerbError(
                "unknown verb {word!r}; did you mean {names}?", word=word, names=", ".join(near)
            ) from None
        raise VerbError("unknown verb {word!r}; type ? for the list", word=word) from None


def parse(line: str, lookup: Lookup, new_id: Callable[[], str]) -> Command | ReadVerb:
    """The command (or read verb) that ``line`` asks for; :class:`VerbError` if it cannot be."""
    words = split(line)
    if not words:
        raise VerbError("empty command; type ? for the list of verbs")
    verb = verb_named(words[0])
    return _Parser(verb, words[1:], lookup, new_id).run()


class Fail(Protocol):
    """Makes a verb's error: a gettext template and its fields."""

    def __call__(self, why: str, **params: object) -> VerbError: ...


class _Base(TypedDict):
    """The fields every case command has, keyword-ready."""

    id: str
    case: str
    version: int


class _Parser:
    """Reads one verb's words left to right."""

    def __init__(
        self, verb: Verb, words: list[str], lookup: Lookup, new_id: Callable[[], str]
    ) -> None:
        self.verb = verb
        self.words = words
        self.lookup = lookup
        self.new_id = new_id
        self.last = ""
        """The word taken last (for an error about it)."""

    # word readers

    def _fail(self, why: str, **params: object) -> VerbError:
        """``why`` is a gettext template of ``params`` (see :class:`VerbError`)."""
        return VerbError(why, verb=self.verb.name, usage=self.verb.usage, **params)

    def take(self, what: str) -> str:
        if not self.words:
            raise self._fail("missing {what}", what=what)
        self.last = self.words.pop(0)
        return self.last

    def peek(self) -> str | None:
        return self.words[0] if self.words else None

    def rest(self) -> str:
        text = " ".join(self.words)
        self.words = []
        return text

    def text(self, what: str) -> str:
        text = self.rest()
        if not text.strip():
            raise self._fail("{what} is required", what=what)
        return text

    def done(self) -> None:
        if self.words:
            raise self._fail("unexpected {word!r}", word=" ".join(self.words))

    def choice(self, words: Mapping[str, _T], what: str) -> _T:
        word = self.take(what)
        try:
            return words[word.lower()]
        except KeyError:
            allowed = "|".join(dict.fromkeys(k for k in words if k.isascii()))
            raise self._fail(
                "{what} must be {allowed}, not {word!r}", what=what, allowed=allowed, word=word
            ) from None

    def case(self) -> Case:
        return resolve_case(self.take("case ID"), self.lookup)

    def time(self, what: str) -> datetime:
        """An ISO time with its UTC offset (a hand-over window's edge)."""
        word = self.take(what)
        try:
            at = datetime.fromisoformat(word)
        except ValueError:
            at = None
        if at is None or at.tzinfo is None:
            raise self._fail(
                "{what} must be a time with its offset, like {example}",
                what=what, example="2026-11-23T17:30+08:00",
            )  # fmt: skip
        return at

    def unit(self) -> Unit:
        return resolve_unit(self.take("UNIT"), self.lookup)

    # the verbs

    def run(self) -> Command | ReadVerb:
        if self.verb.op is None:
            return self.read_verb()
        if self.verb.op == "intake":
            return self.intake()
        if self.verb.op == "staff_status":
            return self.staff_status()
        if self.verb.op == "shift_change":
            shift = self.choice(_SHIFT_WORDS, "the shift")
            self.done()
            return ShiftChange(id=self.new_id(), to=shift)
        if self.verb.op == "handover_note":
            return HandoverNote(id=self.new_id(), text=self.text("the note text"))
        if self.verb.op == "handover_ack":
            since, until = self.time("SINCE"), self.time("UNTIL")
            outgoing = self.text("OUTGOING")
            return HandoverAck(id=self.new_id(), since=since, until=until, outgoing=outgoing)
        if self.verb.op is not None and self.verb.op.startswith("rota_"):
            return self.rota()
        return self.case_command()

    def day(self) -> date:
        word = self.take("DATE")
        try:
            return date.fromisoformat(word)
        except ValueError:
            raise self._fail("{what} must be a date like 2026-12-05, not {word!r}",
                             what="DATE", word=word) from None  # fmt: skip

    def rota(self) -> Command:
        """The rota verbs: ``swap``, ``standby``, ``commander`` (the commander's changes)."""
        on = self.day()
        if self.verb.op == "rota_swap":
            a = resolve_staff(self.take("STAFF"), self.lookup).id
            b = resolve_staff(self.take("STAFF"), self.lookup).id
            return RotaSwap(id=self.new_id(), on=on, a=a, b=b, reason=self.rest())
        if self.verb.op == "rota_standby":
            unit = self.unit()
            names = [w for w in self.take("STAFF").split(",") if w]
            order = tuple(resolve_staff(w, self.lookup, unit).id for w in names)
            return RotaStandby(id=self.new_id(), on=on, unit=unit.id, order=order,
                               reason=self.rest())  # fmt: skip
        commander = self.take("NAME")
        return RotaCommander(id=self.new_id(), on=on, commander=commander, reason=self.rest())

    def case_command(self) -> Command:
        op = self.verb.op
        case = self.case()
        base = _Base(id=self.new_id(), case=case.id, version=case.version)
        command: Command
        match op:
            case "accept":
                command = self.accept(base)
            case "reject":
                command = Reject(**base, reason=self.text("a reason"))
            case "verify":
                confirmed = self.choice(_YES_WORDS, "the answer")
                command = Verify(**base, confirmed=confirmed, reason=self.rest())
            case "dispatch":
                unit = self.unit()
                staff = self.staff_of(unit)
                self.done()
                command = Dispatch(**base, unit=unit.id, staff=staff)
            case "reassign":
                command = self.reassign(base)
            case "acknowledge":
                self.done()
                command = Acknowledge(**base)
            case "arrive":
                self.done()
                command = Arrive(**base)
            case "report_back":
                command = ReportBack(**base, reason=self.text("the result"))
            case "check":
                passed = self.choice(_PASS_WORDS, "the result")
                note = self.rest()
                if not passed and not note.strip():
                    raise self._fail("a failed check needs a reason")
                command = Check(**base, passed=passed, reason=note)
            case "rework":
                command = Rework(**base, reason=self.text("a reason"))
            case "close":
                command = Close(**base, reason=self.rest())
            case "callback":
                satisfied, reopen = self.choice(_CALLBACK_WORDS, "the answer")
                command = Callback(**base, satisfied=satisfied, reopen=reopen, reason=self.rest())
            case "escalate":
                command = Escalate(**base, reason=self.text("a reason"))
            case "urge":
                command = Urge(**base, reason=self.rest())
            case "joint":
                lead = self.unit()
                supporting = tuple(
                    resolve_unit(name, self.lookup).id
                    for name in _UNIT_SEPARATORS.split(self.take("SUPPORT units"))
                    if name
                )
                if not supporting:
                    raise self._fail("name at least one supporting unit")
                command = Joint(**base, lead=lead.id, supporting=supporting, reason=self.rest())
            case "note":
                command = Note(**base, reason=self.text("the note text"))
            case "request_return":
                command = RequestReturn(**base, reason=self.text("a reason"))
            case "request_extension":
                minutes = parse_minutes(self.take("MINUTES"))
                command = RequestExtension(**base, minutes=minutes, reason=self.text("a reason"))
            case "request_park":
                command = RequestPark(**base, reason=self.text("a reason"))
            case "request_void":
                command = RequestVoid(**base, reason=self.text("a reason"))
            case "approve":
                kind = self.choice(_REQUEST_WORDS, "the request kind")
                self.done()
                command = Approve(**base, request=kind)
            case "refuse":
                kind = self.choice(_REQUEST_WORDS, "the request kind")
                command = Refuse(**base, request=kind, reason=self.text("a reason"))
            case "resume":
                self.done()
                command = Resume(**base)
            case "merge":
                into = resolve_case(self.take("INTO case"), self.lookup)
                self.done()
                if into.id == case.id:
                    raise self._fail("a case cannot be merged into itself")
                command = Merge(**base, into=into.id)
            case "instruct":
                due: int | None = None
                word = self.peek()
                if word is not None and _MINUTES_WORD.fullmatch(word) and len(self.words) > 1:
                    due = parse_minutes(self.take("MINUTES"))
                command = Instruct(**base, minutes=due, reason=self.text("the instruction"))
            case "send_down":
                to: Level | None = None
                word = self.peek()
                if word is not None and word.lower() in _LOWER_LEVEL_WORDS:
                    to = self.choice(_LOWER_LEVEL_WORDS, "the level")
                command = SendDown(**base, level=to, reason=self.text("a reason"))
            case "whistle":
                units = tuple(
                    dict.fromkeys(
                        resolve_unit(name, self.lookup).id
                        for name in _UNIT_SEPARATORS.split(self.take("UNIT list"))
                        if name
                    )
                )
                if not units:
                    raise self._fail("name at least one unit to summon")
                minutes = parse_minutes(self.take("MINUTES"))
                if minutes > _MAX_WHISTLE_MINUTES:
                    raise self._fail("a report-in deadline is at most a day (1440 minutes)")
                command = BlowWhistle(**base, units=units, minutes=minutes, reason=self.rest())
            case "report_in":
                unit = self.unit()
                self.done()
                command = ReportIn(**base, unit=unit.id)
            case _:  # pragma: no cover - every op in VERBS has a branch (a test checks)
                raise AssertionError(op)
        return command

    def accept(self, base: _Base) -> Accept:
        category: str | None = None
        urgency: Urgency | None = None
        while (word := self.peek()) is not None:
            self.words.pop(0)
            if word.lower() in _URGENCY_WORDS and urgency is None:
                urgency = _URGENCY_WORDS[word.lower()]
            elif category is None and urgency is None:
                category = resolve_category(word, self.lookup.catalog).code
            else:
                raise self._fail("unexpected {word!r}", word=word)
        return Accept(**base, category=category, urgency=urgency)

    def staff_of(self, unit: Unit) -> str | None:
        word = self.peek()
        if word is None:
            return None
        self.words.pop(0)
        return resolve_staff(word, self.lookup, unit).id

    def reassign(self, base: _Base) -> Reassign:
        unit = self.unit()
        staff: str | None = None
        word = self.peek()
        if word is not None and word != _END_OF_NAMES:
            exact = [s for s in members(unit, self.lookup) if word in (s.id, s.name)]
            if len(exact) == 1:  # a reason word that is a colleague's full name is unlikely
                staff = exact[0].id
                self.words.pop(0)
        if self.peek() == _END_OF_NAMES:
            self.words.pop(0)
        reason = self.text("a reason")
        return Reassign(**base, unit=unit.id, staff=staff, reason=reason)

    def staff_status(self) -> StaffStatus:
        person = resolve_staff(self.take("STAFF"), self.lookup)
        duty: Duty | None = None
        field: Field | None = None
        if not self.words:
            raise self._fail("say the new duty or field status")
        for word in self.rest().split():
            w = word.lower()  # the two word sets do not overlap
            if w in _DUTY_WORDS and duty is None:
                duty = _DUTY_WORDS[w]
            elif w in _FIELD_WORDS and field is None:
                field = _FIELD_WORDS[w]
            else:
                raise self._fail("unexpected {word!r}", word=word)
        return StaffStatus(id=self.new_id(), staff=person.id, duty=duty, field=field)

    def intake(self) -> Intake:
        flags = _intake_flags(self.words, self._fail)
        self.words = []
        for name in ("category", "source", "title"):
            if not flags.get(name):
                raise self._fail("--{flag} is required", flag=name)
        category = resolve_category(flags["category"], self.lookup.catalog)
        kind = category.kind
        if "kind" in flags:
            kind = _word(flags["kind"], _KIND_WORDS, "the kind (--kind)", self._fail)
            if kind != category.kind:
                raise self._fail(
                    "category {code} {name} is a {kind}, not a {given}",
                    code=category.code,
                    name=category.name,
                    kind=category.kind,
                    given=kind,
                )
        grid = resolve_area(flags["grid"], self.lookup).code if "grid" in flags else None
        urgency = {"urgent": Urgency.URGENT, "general": Urgency.GENERAL}.get(
            flags.get("urgency", "")
        )
        title = flags["title"]
        if len(title) > 200:
            raise self._fail("the title is longer than 200 characters")
        return Intake(
            id=self.new_id(),
            kind=kind,
            category=category.code,
            source=_word(flags["source"], _SOURCE_WORDS, "the source (--source)", self._fail),
            title=title,
            description=flags.get("description", ""),
            urgency=urgency,
            grid=grid,
            address=flags.get("address", ""),
            reporter=flags.get("reporter") or None,
        )

    def read_verb(self) -> ReadVerb:
        name = self.verb.name
        if name == "list":
            queue = Queue.ALL
            if self.words:
                try:
                    queue = parse_queue(self.take("the queue"))
                except ValueError:
                    raise self._fail(
                        "no queue {word!r}; one of {allowed} (or 1–8)",
                        word=self.last,
                        allowed="|".join(QUEUE_WORDS),
                    ) from None
            self.done()
            return ReadVerb("list", (queue.value,))
        if name in ("show", "suggest", "rollcall"):
            case = self.case()
            self.done()
            return ReadVerb(name, (case.id,))
        if name == "rota":
            self.done()
            return ReadVerb("rota")
        unit = None if not self.words else self.unit()
        self.done()
        return ReadVerb("roster", () if unit is None else (unit.id,))


_T = TypeVar("_T")

INTAKE_VALUE_FLAGS: tuple[str, ...] = (
    "category", "source", "title", "kind", "grid", "description", "address", "reporter",
)  # fmt: skip


def _intake_flags(words: list[str], fail: Fail) -> dict[str, str]:
    """``--name value`` / ``--name=value`` pairs, and ``--urgent`` / ``--general``."""
    flags: dict[str, str] = {}
    queue = list(words)
    while queue:
        word = queue.pop(0)
        name, eq, value = word.removeprefix("--").partition("=")
        if not word.startswith("--"):
            raise fail("unexpected {word!r} (intake takes --flags)", word=word)
        if name in ("urgent", "general") and not eq:
            flags["urgency"] = name
        elif name in INTAKE_VALUE_FLAGS:
            if not eq:
                if not queue:
                    raise fail("--{flag} needs a value", flag=name)
                value = queue.pop(0)
            flags[name] = value
        else:
            raise fail("unknown flag --{flag}", flag=name)
    return flags


def _word(word: str, words: Mapping[str, _T], what: str, fail: Fail) -> _T:
    try:
        return words[word.lower()]
    except KeyError:
        allowed = "|".join(dict.fromkeys(k for k in words if k.isascii()))
        raise fail(
            "{what} must be {allowed}, not {word!r}", what=what, allowed=allowed, word=word
        ) from None


def parse_minutes(word: str) -> int:
    """``240``, ``90m``, ``4h`` or ``2d`` (calendar hours and days) as minutes, 1–43200."""
    m = re.fullmatch(r"(\d+)([mhd]?)", word.strip().lower())
    if m is None:
        raise VerbError("{word!r} is not a number of minutes (240, 90m, 4h, 2d)", word=word)
    minutes = int(m.group(1)) * {"": 1, "m": 1, "h": 60, "d": 24 * 60}[m.group(2)]
    if not 1 <= minutes <= _MAX_MINUTES:
        raise VerbError(
            "an extension is 1 to {most} minutes (30 days), not {minutes}",
            most=_MAX_MINUTES,
            minutes=minutes,
        )
    return minutes


# --- help ----------------------------------------------------------------------------------


def _width(text: str) -> int:
    """Terminal cells: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _also(verb: Verb) -> str:
    """Aliases the help text does not already start with."""
    extra = [a for a in verb.aliases if not verb.help.startswith(a)]
    return f" (also: {', '.join(extra)})" if extra else ""


def usage() -> str:
    """The verb table shown by ``?`` and ``griddesk ctl --help``: usage, then what it does."""
    rows = [(v.usage, v.help + _also(v)) for v in VERBS]
    width = min(max(_width(u) for u, _ in rows), 48)
    lines = []
    for use, text in rows:
        if _width(use) > width:
            lines.append(use)
            lines.append(" " * (width + 2) + text)
        else:
            lines.append(use + " " * (width - _width(use) + 2) + text)
    return "\n".join(lines)
