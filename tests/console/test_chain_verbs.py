"""The chain of command's verbs at the ``:`` line and ``griddesk ctl``: 批办 with or without a
deadline, sending back down, 吹哨 and 报到, the roll call and the desk queue's words."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from console.names import Lookup, VerbError
from console.verbs import ReadVerb, parse
from dispatch.catalog import Catalog
from dispatch.commands import BlowWhistle, Command, Instruct, ReportIn, SendDown
from dispatch.models import Case, Kind, Level, Source, Status, Urgency
from dispatch.queues import Queue, parse_queue
from hub.demo_city import demo_city

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
CASE = Case(id="2611230042", kind=Kind.EVENT, category="E0101", source=Source.PATROL,
            urgency=Urgency.GENERAL, status=Status.DISPATCHED, title="占道经营",
            grid="310115001001", reported_at=AT, level=Level.DISTRICT, owner_unit="jw-1",
            version=7)  # fmt: skip


@pytest.fixture(scope="module")
def lookup() -> Lookup:
    city = demo_city()
    return Lookup(
        cases={CASE.id: CASE},
        units={u.id: u for u in city.units},
        staff={s.id: s for s in city.staff},
        areas={a.code: a for a in city.areas},
        catalog=Catalog.default(),
    )


def run(line: str, lookup: Lookup) -> Command | ReadVerb:
    counter = itertools.count(1)
    return parse(line, lookup, lambda: f"cmd-{next(counter)}")


def test_instruct_with_and_without_its_own_deadline(lookup: Lookup) -> None:
    base = {"id": "cmd-1", "case": CASE.id, "version": 7}
    assert run("批办 0042 2h 两小时内处置到位", lookup) == Instruct(
        **base, minutes=120, reason="两小时内处置到位"
    )
    assert run("instruct 0042 注意安全", lookup) == Instruct(**base, reason="注意安全")
    # A lone number is the text, not a deadline with no instruction.
    assert run("instruct 0042 110", lookup) == Instruct(**base, reason="110")
    with pytest.raises(VerbError, match="the instruction is required"):
        run("instruct 0042", lookup)


def test_send_down_one_level_or_to_a_named_level(lookup: Lookup) -> None:
    base = {"id": "cmd-1", "case": CASE.id, "version": 7}
    assert run("senddown 0042 属街道职责", lookup) == SendDown(**base, reason="属街道职责")
    assert run("下派 0042 社区 社区能处理", lookup) == SendDown(
        **base, level=Level.COMMUNITY, reason="社区能处理"
    )
    with pytest.raises(VerbError, match="a reason is required"):
        run("senddown 0042 street", lookup)


def test_whistle_and_report_in(lookup: Lookup) -> None:
    base = {"id": "cmd-1", "case": CASE.id, "version": 7}
    assert run("吹哨 0042 城管一中队,青石派出所、market 30 占道回潮", lookup) == BlowWhistle(
        **base, units=("enforcement-1", "police", "market"), minutes=30, reason="占道回潮"
    )
    with pytest.raises(VerbError, match="at most a day"):
        run("whistle 0042 police 2d", lookup)
    with pytest.raises(VerbError, match="missing MINUTES"):
        run("whistle 0042 police", lookup)
    assert run("报到 0042 青石派出所", lookup) == ReportIn(**base, unit="police")
    assert run("rollcall 0042", lookup) == ReadVerb("rollcall", (CASE.id,))
    assert run("点名 0042", lookup) == ReadVerb("rollcall", (CASE.id,))


def test_the_desk_queue_has_a_tab_number_and_words() -> None:
    for word in ("desk", "8", "escalated", "升级件", "批办", "本级"):
        assert parse_queue(word) is Queue.DESK
