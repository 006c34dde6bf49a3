"""The command verbs: lines typed at the console's ``:`` or to ``griddesk ctl`` become the right
typed commands (with the case's version and a fresh id), names resolve as a dispatcher would
expect, every mistake is a plain-words VerbError, and completion offers the next word."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime

import pytest

from console.completion import complete
from console.names import Lookup, VerbError
from console.verbs import VERBS, ReadVerb, parse, parse_minutes, usage
from dispatch.catalog import Catalog
from dispatch.commands import (
    ALL_COMMANDS,
    Accept,
    Acknowledge,
    Approve,
    Arrive,
    Callback,
    Check,
    Close,
    Command,
    Dispatch,
    Escalate,
    Intake,
    Joint,
    Merge,
    Note,
    Reassign,
    Refuse,
    Reject,
    ReportBack,
    RequestExtension,
    RequestPark,
    RequestReturn,
    RequestVoid,
    Resume,
    Rework,
    ShiftChange,
    StaffStatus,
    Urge,
    Verify,
)
from dispatch.models import Case, Duty, Field, Kind, Shift, Source, Status, Urgency
from dispatch.queues import QUEUE_WORDS
from hub.demo_city import demo_city

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def case(case_id: str, status: Status = Status.DISPATCHED, version: int = 4, **kw: object) -> Case:
    fields: dict[str, object] = {
        "id": case_id,
        "kind": Kind.EVENT,
        "category": "E0101",
        "source": Source.PATROL,
        "urgency": Urgency.GENERAL,
        "status": status,
        "title": "路边堆放垃圾",
        "grid": "310115001001",
        "reported_at": AT,
        "owner_unit": "sanitation" if status is Status.DISPATCHED else None,
        "version": version,
    }
    return Case(**(fields | kw))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def lookup() -> Lookup:
    city = demo_city()
    cases = [
        case("2611230042", version=4),
        case("2611230043", Status.REPORTED, version=1),
        case("2611230044", Status.ACCEPTED, version=2),
        case("2611220044", Status.CLOSED, version=9),  # a closed case sharing the ending 0044
        case("2611220100", Status.CLOSED, version=9),
        case("2611230101", Status.PARKED, version=6),
    ]
    return Lookup(
        cases={c.id: c for c in cases},
        units={u.id: u for u in city.units},
        staff={s.id: s for s in city.staff},
        areas={a.code: a for a in city.areas},
        catalog=Catalog.default(),
    )


@pytest.fixture
def ids() -> itertools.count[int]:
    return itertools.count(1)


def run(line: str, lookup: Lookup) -> Command | ReadVerb:
    counter = itertools.count(1)
    return parse(line, lookup, lambda: f"cmd-{next(counter)}")


def error(line: str, lookup: Lookup) -> str:
    with pytest.raises(VerbError) as caught:
        run(line, lookup)
    return str(caught.value)


# --- every verb makes its command ------------------------------------------------------------


def test_assign_by_names_carries_version_and_fresh_id(lookup: Lookup) -> None:
    command = run("assign 2611230044 城管一中队 叶立新", lookup)
    assert command == Dispatch(
        id="cmd-1", case="2611230044", version=2, unit="enforcement-1", staff="S034"
    )


def test_dispatch_alias_ids_and_prefixes(lookup: Lookup) -> None:
    assert run("dispatch 0044 enforcement-1", lookup) == Dispatch(
        id="cmd-1", case="2611230044", version=2, unit="enforcement-1"
    )
    # a unique prefix of a unit name and of a person's name in that unit
    assert run("派遣 0044 城管一 叶立", lookup) == Dispatch(
        id="cmd-1", case="2611230044", version=2, unit="enforcement-1", staff="S034"
    )


def test_each_new_command_gets_a_new_id(lookup: Lookup) -> None:
    counter = itertools.count(1)
    make = lambda: f"c{next(counter)}"  # noqa: E731
    first = parse("urge 0042", lookup, make)
    second = parse("urge 0042", lookup, make)
    assert isinstance(first, Urge) and isinstance(second, Urge)
    assert first.id != second.id


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("accept 0043", Accept(id="cmd-1", case="2611230043", version=1)),
        (
            "accept 0043 E0102 urgent",
            Accept(id="cmd-1", case="2611230043", version=1, category="E0102", urgency="urgent"),
        ),
        ("accept 0043 一般", Accept(id="cmd-1", case="2611230043", version=1, urgency="general")),
        (
            "reject 0043 不属于 城市管理范围",
            Reject(id="cmd-1", case="2611230043", version=1, reason="不属于 城市管理范围"),
        ),
        ("verify 0043 yes", Verify(id="cmd-1", case="2611230043", version=1, confirmed=True)),
        (
            "verify 0043 no 现场无此情况",
            Verify(
                id="cmd-1", case="2611230043", version=1, confirmed=False, reason="现场无此情况"
            ),
        ),
        ("ack 0042", Acknowledge(id="cmd-1", case="2611230042", version=4)),
        ("签收 0042", Acknowledge(id="cmd-1", case="2611230042", version=4)),
        ("arrive 0042", Arrive(id="cmd-1", case="2611230042", version=4)),
        (
            "report 0042 已清运完毕",
            ReportBack(id="cmd-1", case="2611230042", version=4, reason="已清运完毕"),
        ),
        ("check 0042 pass", Check(id="cmd-1", case="2611230042", version=4, passed=True)),
        (
            "check 0042 fail 仍有残留",
            Check(id="cmd-1", case="2611230042", version=4, passed=False, reason="仍有残留"),
        ),
        (
            "rework 0042 仍有残留",
            Rework(id="cmd-1", case="2611230042", version=4, reason="仍有残留"),
        ),
        ("close 0042", Close(id="cmd-1", case="2611230042", version=4)),
        (
            "callback 0042 no 处理太慢",
            Callback(id="cmd-1", case="2611230042", version=4, satisfied=False, reason="处理太慢"),
        ),
        (
            "callback 0042 返工 又脏了",
            Callback(id="cmd-1", case="2611230042", version=4, satisfied=False, reopen=True,
                     reason="又脏了"),
        ),
        (
            "escalate 0042 社区无力处置",
            Escalate(id="cmd-1", case="2611230042", version=4, reason="社区无力处置"),
        ),
        ("urge 0042", Urge(id="cmd-1", case="2611230042", version=4)),
        (
            "urge 0042 超时未到场",
            Urge(id="cmd-1", case="2611230042", version=4, reason="超时未到场"),
        ),
        (
            "joint 0042 城管一中队 青石派出所，青石市场监管所 占道经营联合整治",
            Joint(
                id="cmd-1",
                case="2611230042",
                version=4,
                lead="enforcement-1",
                supporting=("police", "market"),
                reason="占道经营联合整治",
            ),
        ),
        (
            'note 0042 "已电话联系 商户"',
            Note(id="cmd-1", case="2611230042", version=4, reason="已电话联系 商户"),
        ),
        (
            "return 0042 非本单位职责",
            RequestReturn(id="cmd-1", case="2611230042", version=4, reason="非本单位职责"),
        ),
        (
            "extend 0042 4h 需协调产权单位",
            RequestExtension(
                id="cmd-1", case="2611230042", version=4, minutes=240, reason="需协调产权单位"
            ),
        ),
        (
            "park 0042 待拆迁规划",
            RequestPark(id="cmd-1", case="2611230042", version=4, reason="待拆迁规划"),
        ),
        (
            "void 0042 重复上报",
            RequestVoid(id="cmd-1", case="2611230042", version=4, reason="重复上报"),
        ),
        (
            "approve 0042 extension",
            Approve(id="cmd-1", case="2611230042", version=4, request="extension"),
        ),
        (
            "refuse 0042 退单 属环卫职责",
            Refuse(id="cmd-1", case="2611230042", version=4, request="return", reason="属环卫职责"),
        ),
        ("resume 0101", Resume(id="cmd-1", case="2611230101", version=6)),
        ("merge 0043 0042", Merge(id="cmd-1", case="2611230043", version=1, into="2611230042")),
        ("shift standby", ShiftChange(id="cmd-1", to=Shift.STANDBY)),
        ("交班 白班", ShiftChange(id="cmd-1", to=Shift.DAY)),
        ("staff 叶立新 on", StaffStatus(id="cmd-1", staff="S034", duty=Duty.ON_DUTY)),
        (
            "staff S034 off offline",
            StaffStatus(id="cmd-1", staff="S034", duty=Duty.OFF, field=Field.OFFLINE),
        ),
        ("staff 叶立新 busy", StaffStatus(id="cmd-1", staff="S034", field=Field.BUSY)),
    ],
)
def test_line_becomes_command(line: str, expected: Command, lookup: Lookup) -> None:
    assert run(line, lookup) == expected


def test_reassign_staff_only_when_exact_member_of_unit(lookup: Lookup) -> None:
    with_staff = run("reassign 0042 城管一中队 叶立新 属城管职责", lookup)
    assert with_staff == Reassign(
        id="cmd-1",
        case="2611230042",
        version=4,
        unit="enforcement-1",
        staff="S034",
        reason="属城管职责",
    )
    # not a person of that unit: the word starts the reason
    no_staff = run("reassign 0042 城管一中队 叶 属城管职责", lookup)
    assert isinstance(no_staff, Reassign)
    assert (no_staff.staff, no_staff.reason) == (None, "叶 属城管职责")
    # `--` ends the names even when the reason begins with a colleague's name
    forced = run("reassign 0042 城管一中队 -- 叶立新 不在岗", lookup)
    assert isinstance(forced, Reassign)
    assert (forced.staff, forced.reason) == (None, "叶立新 不在岗")


def test_intake_flags(lookup: Lookup) -> None:
    command = run(
        "intake --category 暴露垃圾 --source 12345 --grid 梧桐苑网格 --title '路边 堆放垃圾' "
        "--description=两天未清运 --urgent --address 梧桐路12号 --reporter 12345-0117",
        lookup,
    )
    assert command == Intake(
        id="cmd-1",
        kind=Kind.EVENT,
        category=lookup.catalog.search("暴露垃圾")[0].code,
        source=Source.HOTLINE,
        title="路边 堆放垃圾",
        description="两天未清运",
        urgency=Urgency.URGENT,
        grid="310115001001",
        address="梧桐路12号",
        reporter="12345-0117",
    )


def test_intake_kind_defaults_to_the_category_kind(lookup: Lookup) -> None:
    command = run("intake --category 0101 --source patrol --title 井盖缺失", lookup)
    assert isinstance(command, Intake)
    assert (command.kind, command.category, command.urgency, command.grid) == (
        Kind.COMPONENT,
        "0101",
        None,
        None,
    )


def test_read_verbs_resolve_their_arguments(lookup: Lookup) -> None:
    assert run("list", lookup) == ReadVerb("list", ("all",))
    assert run("list overdue", lookup) == ReadVerb("list", ("overdue",))
    assert run("ls 待派遣", lookup) == ReadVerb("list", ("to_dispatch",))
    # The words the help lists, the tab numbers and the board's ids name the same queues.
    assert run("list accept", lookup) == ReadVerb("list", ("to_accept",))
    assert run("list 2", lookup) == ReadVerb("list", ("to_accept",))
    assert run("list to_check", lookup) == run("list verify", lookup)
    assert run("show 0042", lookup) == ReadVerb("show", ("2611230042",))
    assert run("roster", lookup) == ReadVerb("roster", ())
    assert run("roster 城管二", lookup) == ReadVerb("roster", ("enforcement-2",))


def test_every_command_op_has_a_verb() -> None:
    ops = {v.op for v in VERBS if v.op is not None}
    assert ops == {str(c.__struct_config__.tag) for c in ALL_COMMANDS}
    words = [w for v in VERBS for w in (v.name, *v.aliases)]
    assert len(words) == len(set(words)), "a verb word names two verbs"


# --- names --------------------------------------------------------------------------------


def test_case_suffix_prefers_open_cases(lookup: Lookup) -> None:
    # 0044 ends an open and a closed case: the open one is meant
    command = run("accept 0044", lookup)
    assert isinstance(command, Accept) and command.case == "2611230044"
    # only closed cases end in 0100: that one
    assert run("show 0100", lookup) == ReadVerb("show", ("2611220100",))


def test_case_suffix_ambiguous_lists_candidates(lookup: Lookup) -> None:
    twin = case("2611240042", version=1)
    both = dataclasses.replace(lookup, cases={**lookup.cases, twin.id: twin})
    message = error("show 0042", both)
    assert "'0042' matches several cases: 2611240042, 2611230042" in message


def test_unknown_case(lookup: Lookup) -> None:
    assert "no case '9999'" in error("show 9999", lookup)


def test_ambiguous_unit_lists_candidates(lookup: Lookup) -> None:
    message = error("assign 0044 城管", lookup)
    assert "matches several units" in message
    assert "城管一中队 (enforcement-1)" in message and "城管二中队 (enforcement-2)" in message


def test_unknown_unit_suggests_near_names(lookup: Lookup) -> None:
    message = error("assign 0044 城管三中队", lookup)
    assert "no unit '城管三中队'" in message
    assert "城管一中队" in message


def test_candidates_are_capped_at_five(lookup: Lookup) -> None:
    # eight units' names start with 东川 (six departments, the district hall, the leadership)
    message = error("roster 东川", lookup)
    assert "matches several units" in message
    assert message.count("(") == 5 and "and 3 more" in message


def test_person_of_another_unit_is_named_as_such(lookup: Lookup) -> None:
    message = error("assign 0044 城管二中队 叶立新", lookup)
    assert "叶立新 is not in 城管二中队 but in 城管一中队" in message


def test_unknown_person(lookup: Lookup) -> None:
    assert "no person '无名氏'" in error("staff 无名氏 on", lookup)


def test_unknown_category(lookup: Lookup) -> None:
    assert "no category 'Z9999'" in error("accept 0043 Z9999", lookup)


def test_unknown_grid(lookup: Lookup) -> None:
    message = error("intake --category 0101 --source patrol --title t --grid 火星", lookup)
    assert "no grid '火星'" in message


# --- every mistake is a VerbError ----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("", "empty command"),
        ("   ", "empty command"),
        ("asign 0042 城管一中队", "did you mean assign"),
        ("frobnicate", "unknown verb"),
        ("note 0042 'unclosed", "cannot read the line"),
        ("assign", "missing case ID"),
        ("assign 0044", "missing UNIT"),
        ("assign 0044 城管一中队 叶立新 extra", "unexpected 'extra'"),
        ("ack 0042 now", "unexpected 'now'"),
        ("reject 0043", "a reason is required"),
        ("reassign 0042 城管一中队", "a reason is required"),
        ("reassign 0042 城管一中队 叶立新", "a reason is required"),
        ("escalate 0042", "a reason is required"),
        ("rework 0042", "a reason is required"),
        ("return 0042", "a reason is required"),
        ("park 0042", "a reason is required"),
        ("void 0042", "a reason is required"),
        ("note 0042", "the note text is required"),
        ("report 0042", "the result is required"),
        ("check 0042 fail", "a failed check needs a reason"),
        ("check 0042 maybe", "must be pass|passed|fail|failed"),
        ("verify 0043 perhaps", "must be yes|y|no|n"),
        ("callback 0042", "missing the answer"),
        ("approve 0042 holiday", "must be return|extension|park|void"),
        ("approve 0042 return now", "unexpected 'now'"),
        ("refuse 0042 return", "a reason is required"),
        ("extend 0042 soon 需协调", "not a number of minutes"),
        ("extend 0042 0 需协调", "1 to 43200 minutes"),
        ("extend 0042 31d 需协调", "1 to 43200 minutes"),
        ("extend 0042 4h", "a reason is required"),
        ("joint 0042 城管一中队", "missing SUPPORT units"),
        ("joint 0042 城管一中队 ,", "at least one supporting unit"),
        ("merge 0042", "missing INTO case"),
        ("merge 0042 0042", "cannot be merged into itself"),
        ("accept 0043 urgent E0101", "unexpected 'E0101'"),
        ("accept 0043 E0101 E0102", "unexpected 'E0102'"),
        ("shift night", "must be day|standby"),
        ("staff 叶立新", "say the new duty or field status"),
        ("staff 叶立新 on off", "unexpected 'off'"),
        ("staff 叶立新 dancing", "unexpected 'dancing'"),
        ("list later", "no queue 'later'; one of urgent|accept"),
        ("list all now", "unexpected 'now'"),
        ("intake", "--category is required"),
        ("intake --category 0101 --source patrol", "--title is required"),
        ("intake --category 0101 --title t", "--source is required"),
        ("intake --category 0101 --source mail --title t", "the source (--source) must be"),
        ("intake --category 0101 --source patrol --title t --kind event", "is a component"),
        ("intake --category 0101 --source patrol --title t --colour red", "unknown flag"),
        ("intake --category 0101 --source patrol --title", "--title needs a value"),
        ("intake 0101", "intake takes --flags"),
        ("intake --category 0101 --source patrol --title " + "长" * 201, "longer than 200"),
    ],
)
def test_mistakes_are_verb_errors(line: str, words: str, lookup: Lookup) -> None:
    assert words in error(line, lookup)


def test_usage_is_in_the_error(lookup: Lookup) -> None:
    assert "(usage: assign ID UNIT [STAFF])" in error("assign 0044", lookup)


def test_parse_minutes_units() -> None:
    assert [parse_minutes(w) for w in ("90", "90m", "4h", "2d")] == [90, 90, 240, 2880]


# --- completion ----------------------------------------------------------------------------


def test_complete_verbs(lookup: Lookup) -> None:
    assert complete("", lookup)[:3] == ["accept", "立案", "reject"]
    assert complete("re", lookup) == [
        "reject",
        "reassign",
        "report",
        "rework",
        "return",
        "refuse",
        "resume",
        "reportin",
        "report_in",
    ]
    assert complete("as", lookup) == ["assign"]


def test_complete_case_ids_open_first(lookup: Lookup) -> None:
    offered = complete("show ", lookup)
    assert offered[:4] == ["2611230042", "2611230043", "2611230044", "2611230101"]
    assert set(offered[4:]) == {"2611220044", "2611220100"}
    # by ending too
    assert complete("show 0044", lookup) == ["2611230044", "2611220044"]


def test_complete_unit_names(lookup: Lookup) -> None:
    assert complete("assign 0044 城管", lookup) == ["城管一中队", "城管二中队"]


def test_complete_staff_of_the_chosen_unit(lookup: Lookup) -> None:
    offered = complete("assign 0044 城管一中队 ", lookup)
    unit_people = {s.name for s in lookup.staff.values() if s.unit == "enforcement-1"}
    assert offered and set(offered) == unit_people
    assert complete("assign 0044 城管一中队 叶", lookup) == ["叶立新"]


def test_complete_categories_and_choices(lookup: Lookup) -> None:
    offered = complete("accept 0043 井盖", lookup)
    assert "上水井盖" in offered and "污水井盖" in offered
    assert complete("accept 0043 E010", lookup)[0].startswith("E010")
    assert complete("accept 0043 E0101 ", lookup) == ["urgent", "general"]
    assert complete("verify 0043 ", lookup) == ["yes", "no"]
    assert complete("check 0042 f", lookup) == ["fail"]
    assert complete("approve 0042 ", lookup) == ["return", "extension", "park", "void"]
    assert complete("list o", lookup) == ["overdue"]
    assert complete("shift ", lookup) == ["day", "standby"]


def test_complete_joint_supporting_list(lookup: Lookup) -> None:
    assert complete("joint 0042 城管一中队 青石派出所,青石市", lookup) == [
        "青石派出所,青石市场监管所"
    ]


def test_complete_intake_flags_and_values(lookup: Lookup) -> None:
    assert "--category" in complete("intake ", lookup)
    assert complete("intake --category 0101 --so", lookup) == ["--source"]
    assert complete("intake --source ", lookup) == ["patrol", "photo", "hotline", "video", "police"]
    assert "梧桐苑网格" in complete("intake --grid 梧桐", lookup)


def test_complete_nothing_after_free_text_or_unknown_verb(lookup: Lookup) -> None:
    assert complete("escalate 0042 ", lookup) == []
    assert complete("frobnicate ", lookup) == []
    assert complete("note 0042 'open", lookup) == []


def test_usage_lists_every_verb() -> None:
    table = usage()
    for verb in VERBS:
        assert verb.usage in table
    assert "list [" + "|".join(QUEUE_WORDS) + "]" in table
