"""``griddesk demo`` refuses what it cannot play before it opens anything."""

from __future__ import annotations

import html
import re
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len

from console.cli import main
from console.demo import opening, read_scenario, shipped_scenarios


def test_the_shipped_scenarios_are_found_by_name() -> None:
    names = set(shipped_scenarios())
    assert {"short", "storm-night", "after-hours"} <= names
    assert read_scenario("storm-night").header.name == "storm-night"


def test_a_broken_scenario_file_is_refused_with_the_step_at_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[scenario]\nname = "x"\ndate = 2026-11-23\nstart = "08:00"\n\n'
        '[[step]]\nat = "08:05"\ndo = "dispatch"\ncase = "c1"\nunit = "police"\n',
        encoding="utf-8",
    )
    assert main(["demo", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "step 1" in err and "no intake step" in err
    assert [p.name for p in tmp_path.iterdir()] == ["bad.toml"]  # no demo folder was made


def test_an_unknown_scenario_name_lists_the_shipped_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--scenario", "no-such-day"]) == 2
    err = capsys.readouterr().err
    assert "no-such-day" in err and "storm-night" in err and "short" in err


def test_a_scenario_the_demo_city_cannot_play_is_refused_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hub starts on a thread of its own; what stops it reaches the user as one line."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # TMPDIR is read once
    short = shipped_scenarios()["short"].read_text(encoding="utf-8")
    elsewhere = tmp_path / "paris.toml"
    elsewhere.write_text(short.replace('city = "demo"', 'city = "paris"'), encoding="utf-8")
    assert main(["demo", "--scenario", str(elsewhere)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "griddesk demo: scenario city 'paris': only 'demo' is built in"
    assert list((tmp_path / "tmp").iterdir()) == []  # the demo folder was removed
    assert not [t for t in threading.enumerate() if t.name == "griddesk-demo-hub"]


@pytest.mark.parametrize(
    ("given", "why"),
    [("05:00", "outside normal-day's 06:30:00–24:00:00"), ("9h30", "--from: time '9h30'")],
)
def test_a_from_outside_the_scenario_is_refused_before_anything_starts(
    given: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--from", given]) == 2
    assert why in capsys.readouterr().err


def test_the_demo_opens_at_the_scenarios_busy_moment_unless_told() -> None:
    day = read_scenario("normal-day")
    assert opening(day, None) == timedelta(hours=17)  # its demo_from: the afternoon peak
    assert opening(day, "start") == day.start == timedelta(hours=6, minutes=30)
    assert opening(day, "09:30") == timedelta(hours=9, minutes=30)
    assert opening(day, "24:00") == day.end


def test_screenshot_writes_the_demos_first_screen_as_svg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's picture: the hall at its opening (short: 16:50, the urgent c1 and c2 on
    the urgent tab), Chinese text sized by its cells; nothing left behind."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    out = tmp_path / "board.svg"
    argv = ["demo", "--scenario", "short", "--lang", "zh_CN", "--screenshot", str(out)]
    assert main([*argv, "--size", "100x30"]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "griddesk&#160;demo&#160;·&#160;short&#160;·&#160;16:50:00" in svg  # the title
    assert "2611230001" in svg and "2611230002" in svg
    assert "紧急&#160;2" in svg and "演练" in svg
    # Each run of text spans its cells: 12.2 px a cell at Rich's 20 px font, two for a 汉字.
    runs = re.findall(r'textLength="([0-9.]+)"[^>]*>([^<]*)</text>', svg)
    assert any(not text.isascii() for _, text in runs)
    for length, text in runs:
        assert float(length) == pytest.approx(12.2 * cell_len(html.unescape(text)))
    assert list((tmp_path / "tmp").iterdir()) == []


def test_the_after_hours_demo_opens_on_the_rota_night(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``griddesk demo --scenario after-hours`` plays on the demo city's rota: at its opening
    (21:10) the collapse is in hand with the municipal standby officer the hub called, and the
    roster holds tonight's standby, the day shift gone home."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    out = tmp_path / "night.svg"
    argv = ["demo", "--scenario", "after-hours", "--lang", "zh_CN", "--screenshot", str(out)]
    assert main([*argv, "--size", "200x50"]) == 0
    svg = html.unescape(out.read_text(encoding="utf-8")).replace("\xa0", " ")
    assert "griddesk demo · after-hours · 21:10:00" in svg
    assert "2611190004" in svg and "吴子涵" in svg  # the collapse, with S094 called for it
    assert "备勤" in svg
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("size", ["200", "wide", "10x5"])
def test_a_screenshot_size_that_is_not_a_terminal_is_a_usage_error(
    size: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.svg"
    assert main(["demo", "--screenshot", str(out), "--size", size]) == 2
    assert "--size" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("speed", ["0", "-3", "fast", "20000"])
def test_a_speed_that_is_not_a_sane_number_is_a_usage_error(
    speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--speed", speed]) == 2
    assert "--speed" in capsys.readouterr().err


NORMAL_DAY = ["--seed", "2026", "--start", "06:30", "--end", "24:00", "--slow-share", "0.12",
              "--name", "normal-day", "--demo-from", "17:00"]  # fmt: skip
"""How hub/data/scenarios/normal-day.toml was made (docs/SCENARIOS.md says so too)."""


def test_the_shipped_normal_day_is_what_the_generator_writes(tmp_path: Path) -> None:
    out = tmp_path / "day.toml"
    assert main(["scenario", "generate", *NORMAL_DAY, "-o", str(out)]) == 0
    shipped = shipped_scenarios()["normal-day"]
    assert out.read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")


def test_the_same_seed_writes_the_same_file_and_another_seed_another(tmp_path: Path) -> None:
    window = ["--start", "16:00", "--end", "19:00"]
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        out = str(tmp_path / f"{name}.toml")
        assert main(["scenario", "generate", "--seed", seed, *window, "-o", out]) == 0
    a, b, c = ((tmp_path / f"{n}.toml").read_text(encoding="utf-8") for n in "abc")
    assert a == b
    assert a != c


def test_generate_refuses_a_window_that_makes_no_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.toml"
    assert main(["scenario", "generate", "--start", "18:00", "--end", "09:00", "-o", str(out)]) == 2
    assert "griddesk scenario generate:" in capsys.readouterr().err
    assert not out.exists()


def test_check_prints_what_a_scenario_implies(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "check", "short"]) == 0
    out = capsys.readouterr().out
    assert "short: 2026-11-23 16:40:00–18:30:00, 9 cases, 76 steps" in out
    assert "griddesk demo opens it at 16:50:00" in out
    assert "closed 6" in out and "3 escalations" in out


def test_check_sets_the_normal_day_beside_the_seeds_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The shipped day is calibrated on practice: ~300 cases a day, 85 % found first (盈浦),
    ~97 % of accepted cases closed (屯溪 96.57 %)."""
    assert main(["scenario", "check", "normal-day"]) == 0
    rows = {
        line.split("  ")[0]: line.split()
        for line in capsys.readouterr().out.splitlines()
        if "%" in line or line.startswith("cases per day")
    }
    found = next(v for k, v in rows.items() if k.startswith("found first"))
    assert "85" in found[-1] or "85" in " ".join(found)
    share = float(next(w for w in found if w.endswith("%") and w[0].isdigit()).rstrip("%"))
    assert 81.0 <= share <= 89.0
    per_day = rows["cases per day"]
    assert 270 <= int(per_day[3].replace(",", "")) <= 330


def test_the_console_refuses_to_start_without_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without a terminal Textual would spin on an input that never comes (a demo started from
    a script once held a core for an hour): one line and exit code 2 instead."""
    assert main(["console", "--hub", "ws://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.strip().startswith("griddesk console: needs a terminal")
    assert main(["demo", "--scenario", "short"]) == 2
    assert "griddesk demo: needs a terminal" in capsys.readouterr().err
