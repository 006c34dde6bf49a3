"""The ``griddesk`` command line, run through ``main([...])`` against real SQLite files."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import ROLES, main
from dispatch.models import Role
from hub.demo_city import demo_city
from hub.store import Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GRIDDESK_* from the developer's shell, and no ./config.toml from the repo root."""
    for var in list(os.environ):
        if var.startswith("GRIDDESK_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hall.db'}"


def authenticate(db: str, token: str) -> object:
    async def run() -> object:
        store = await Store.open(db, migrate=True)
        try:
            return await store.authenticate(token)
        finally:
            await store.close()

    return asyncio.run(run())


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("hub", "operator", "version"):
        assert command in out


def test_help_does_not_import_the_hub_or_sqlalchemy() -> None:
    code = (
        "import sys; from console.cli import main; main(['--help']); "
        "heavy = [m for m in ('hub', 'sqlalchemy', 'websockets', 'textual') if m in sys.modules]; "
        "sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_role_choices_are_the_protocol_roles() -> None:
    assert tuple(r.value for r in Role) == ROLES


def test_version_names_the_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("griddesk ") and "protocol 1" in out


def test_operator_add_prints_only_the_token_and_it_authenticates(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    assert main(["operator", "add", "wang.li", "--role", "dispatcher", "--db", db]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 1 and captured.out.endswith("\n")
    token = lines[0]
    assert token and " " not in token
    assert "wang.li" in captured.err  # the message goes to stderr

    actor = authenticate(db, token)
    assert actor is not None
    assert (actor.name, actor.role, actor.unit) == ("wang.li", Role.DISPATCHER, None)  # type: ignore[attr-defined]


def with_demo_city(db: str) -> str:
    async def run() -> None:
        store = await Store.open(db, migrate=True)
        try:
            city = demo_city()
            await store.seed(city.areas, city.units, city.staff)
        finally:
            await store.close()

    asyncio.run(run())
    return db


def test_operator_add_with_unit_and_duplicate_name(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    with_demo_city(db)
    add = ["operator", "add", "li.na", "--role", "standby", "--db", db]
    assert main([*add, "--unit", "enforcement-1"]) == 0
    token = capsys.readouterr().out.strip()
    assert authenticate(db, token).unit == "enforcement-1"  # type: ignore[attr-defined]

    assert main(["operator", "add", "li.na", "--role", "commander", "--db", db]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "already exists" in captured.err


def test_operator_add_refuses_an_unknown_role(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert main(["operator", "add", "x", "--role", "mayor", "--db", db]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_operator_list_disable_enable(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert main(["operator", "add", "zhao", "--role", "commander", "--db", db]) == 0
    assert main(["operator", "add", "值班员甲", "--role", "dispatcher", "--db", db]) == 0
    token = capsys.readouterr().out.splitlines()[0]

    assert main(["operator", "list", "--db", db]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["NAME", "ROLE", "UNIT", "ENABLED", "CREATED"]
    assert [r.split()[:4] for r in rows] == [
        ["zhao", "commander", "-", "yes"],
        ["值班员甲", "dispatcher", "-", "yes"],
    ]

    assert main(["operator", "disable", "zhao", "--db", db]) == 0
    assert authenticate(db, token) is None
    main(["operator", "list", "--db", db])
    assert capsys.readouterr().out.splitlines()[1].split()[:4] == ["zhao", "commander", "-", "no"]

    assert main(["operator", "enable", "zhao", "--db", db]) == 0
    assert authenticate(db, token) is not None


def test_operator_set_gives_another_role_or_unit(
    capsys: pytest.CaptureFixture[str], db: str
) -> None:
    with_demo_city(db)
    assert main(["operator", "add", "li.na", "--role", "dispatcher", "--db", db]) == 0
    token = capsys.readouterr().out.strip()
    change = ["operator", "set", "li.na", "--db", db]
    assert main([*change, "--role", "standby", "--unit", "enforcement-2"]) == 0
    assert "sessions are ended" in capsys.readouterr().err
    actor = authenticate(db, token)
    assert (actor.role, actor.unit) == (Role.STANDBY, "enforcement-2")  # type: ignore[attr-defined]

    assert main([*change, "--role", "unit"]) == 2  # a unit terminal needs its unit
    assert main([*change, "--role", "unit", "--unit", "nowhere"]) == 2
    assert main(["operator", "set", "nobody", "--role", "observer", "--db", db]) == 1
    assert "no operator named" in capsys.readouterr().err
    assert authenticate(db, token).unit == "enforcement-2"  # type: ignore[attr-defined]


def test_operator_unknown_name_exits_1(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert main(["operator", "disable", "nobody", "--db", db]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nobody" in captured.err
    assert main(["operator", "enable", "nobody", "--db", db]) == 1


def test_operator_db_from_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: str
) -> None:
    monkeypatch.setenv("GRIDDESK_DB", db)
    assert main(["operator", "add", "env.op", "--role", "observer"]) == 0
    token = capsys.readouterr().out.strip()
    assert authenticate(db, token) is not None


def test_default_database_lands_in_the_user_data_dir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["operator", "add", "default.op", "--role", "observer"]) == 0
    assert (tmp_path / "xdg-data" / "griddesk" / "griddesk.db").is_file()


def test_bad_config_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[clock]\nspeed = -3\n", encoding="utf-8")
    assert main(["hub", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "clock.speed" in err


def test_hub_rejects_a_bad_listen_address(capsys: pytest.CaptureFixture[str], db: str) -> None:
    assert main(["hub", "--db", db, "--listen", "nonsense"]) == 2
    assert "hub.listen" in capsys.readouterr().err


def test_hub_rejects_a_missing_tls_file(capsys: pytest.CaptureFixture[str], db: str) -> None:
    argv = ["hub", "--db", db, "--tls-cert", "absent.pem", "--tls-key", "absent.key"]
    assert main(argv) == 2
    assert "hub.tls_cert" in capsys.readouterr().err


def test_hub_serves_and_warns_on_a_public_address_without_tls(db: str) -> None:
    """A real `griddesk hub` process: it serves, warns on stderr, and stops on SIGINT."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from console.cli import main; sys.exit(main())",
         "hub", "--db", db, "--listen", "0.0.0.0:0", "--log-level", "info"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[str] = []
    try:
        for line in proc.stderr:
            seen.append(line)
            if "griddesk hub listening on" in line:
                break
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    text = "".join(seen)
    assert "without TLS" in text
    assert "ws://0.0.0.0:" in text
    assert proc.returncode == 0


@pytest.mark.parametrize(
    ("unit", "why"),
    [(None, "a standby operator acts for one unit: give --unit"), ("u-nope", "no unit 'u-nope'")],
)
def test_operator_add_refuses_a_standby_officer_without_a_real_unit(
    capsys: pytest.CaptureFixture[str], db: str, unit: str | None, why: str
) -> None:
    """Accepted, it would be refused on every case command it ever sent."""
    with_demo_city(db)
    extra = [] if unit is None else ["--unit", unit]
    assert main(["operator", "add", "x", "--role", "standby", "--db", db, *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and why in captured.err
    assert main(["operator", "list", "--db", db]) == 0
    assert " x " not in capsys.readouterr().out
