"""Settings come from config.toml < GRIDDESK_* environment < command-line flags, validated once."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from console.paths import default_config_paths, default_database_url
from console.settings_loader import ENV_KEYS, ConfigError, load_settings
from dispatch.config import Settings, parse_settings

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_toml_is_exactly_the_defaults() -> None:
    assert parse_settings((REPO / "config.toml").read_text(encoding="utf-8")) == Settings()


def test_shipped_config_toml_names_every_environment_variable() -> None:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    for var, key in ENV_KEYS.items():
        assert var in text and key in text


def test_no_file_gives_defaults_with_the_default_database() -> None:
    settings = load_settings(None, {}, {}, search=[])
    assert settings.hub == msgspec.structs.replace(Settings().hub, database=default_database_url())
    assert settings.clock == Settings().clock


def test_default_database_is_a_sqlite_file_in_the_user_data_dir() -> None:
    url = default_database_url()
    assert url.startswith("sqlite+aiosqlite:///")
    assert url.endswith("/griddesk.db")
    assert Path(url.removeprefix("sqlite+aiosqlite:///")).is_absolute()


def test_default_search_order_is_cwd_then_user_config_dir() -> None:
    first, second = default_config_paths()
    assert first == Path("config.toml")
    assert second.name == "config.toml" and second.is_absolute()


def test_first_existing_default_path_is_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    found = write(tmp_path, "[clock]\nspeed = 30.0\n")
    assert load_settings(None, {}, {}, search=[missing, found]).clock.speed == 30.0


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[hub]\nlisten = "127.0.0.1:1111"\ndatabase = "sqlite:///file.db"\n'
        '[clock]\nspeed = 2.0\n[console]\nlocale = "en"\n',
    )
    env = {
        "GRIDDESK_HUB_LISTEN": "127.0.0.1:2222",
        "GRIDDESK_SPEED": "5",
        "GRIDDESK_DB": "sqlite:///env.db",
    }
    flags = {"hub.listen": "0.0.0.0:3333"}

    only_file = load_settings(path, {}, {})
    assert (only_file.hub.listen, only_file.clock.speed) == ("127.0.0.1:1111", 2.0)
    assert only_file.hub.database == "sqlite:///file.db"

    with_env = load_settings(path, env, {})
    assert (with_env.hub.listen, with_env.clock.speed) == ("127.0.0.1:2222", 5.0)
    assert with_env.hub.database == "sqlite:///env.db"
    assert with_env.console.locale == "en"  # untouched by env: the file's value stays

    with_flags = load_settings(path, env, flags)
    assert with_flags.hub.listen == "0.0.0.0:3333"
    assert with_flags.clock.speed == 5.0


def test_every_environment_variable_lands_on_its_key() -> None:
    env = {
        "GRIDDESK_HUB_LISTEN": "127.0.0.1:9",
        "GRIDDESK_DB": "postgresql://u@h/db",
        "GRIDDESK_TLS_CERT": "c.pem",
        "GRIDDESK_TLS_KEY": "k.pem",
        "GRIDDESK_SPEED": "60",
        "GRIDDESK_HUB_URL": "wss://hall:8765",
        "GRIDDESK_TOKEN_FILE": "/tmp/token",
        "GRIDDESK_LOCALE": "en",
    }
    s = load_settings(None, env, {}, search=[])
    assert (s.hub.listen, s.hub.database) == ("127.0.0.1:9", "postgresql://u@h/db")
    assert (s.hub.tls_cert, s.hub.tls_key) == ("c.pem", "k.pem")
    assert s.clock.speed == 60.0
    assert (s.console.hub_url, s.console.token_file, s.console.locale) == (
        "wss://hall:8765",
        "/tmp/token",
        "en",
    )


def test_database_urls_are_kept_as_given() -> None:
    for url in ("sqlite:///x.db", "postgresql://griddesk@db/griddesk"):
        assert load_settings(None, {}, {"hub.database": url}, search=[]).hub.database == url


@pytest.mark.parametrize(
    ("text", "env", "flags", "expected"),
    [
        ("[clock]\nspeed = -1\n", {}, {}, "clock.speed"),
        ("[hub]\nlisten = 8765\n", {}, {}, "hub.listen"),
        ("[hub]\nlisen = '127.0.0.1:1'\n", {}, {}, "hub.lisen: unknown key"),
        ("[calendar]\nweekend = [6, 8]\n", {}, {}, "calendar.weekend"),
        ("[calendar]\nperiods = [['25:00', '12:00']]\n", {}, {}, "calendar.periods"),
        ("[console]\nlocale = 'fr'\n", {}, {}, "console.locale"),
        ("[clock]\ntimezone = 'Mars/Olympus'\n", {}, {}, "clock.timezone"),
        ("", {"GRIDDESK_SPEED": "fast"}, {}, "clock.speed"),
        ("", {}, {"sla.amber_at": 2}, "sla.amber_at"),
        ("", {}, {"hub.tls_cert": "c.pem"}, "hub.tls_key"),
    ],
)
def test_bad_config_names_the_key(
    tmp_path: Path, text: str, env: dict[str, str], flags: dict[str, object], expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, env, flags)
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_bad_value_says_where_it_came_from(tmp_path: Path) -> None:
    path = write(tmp_path, "[clock]\nspeed = 0\n")
    with pytest.raises(ConfigError, match=r"clock\.speed.*config\.toml"):
        load_settings(path, {}, {})
    with pytest.raises(ConfigError, match=r"clock\.speed.*\$GRIDDESK_SPEED"):
        load_settings(None, {"GRIDDESK_SPEED": "0"}, {}, search=[])
    with pytest.raises(ConfigError, match=r"clock\.speed.*command line"):
        load_settings(None, {}, {"clock.speed": 0}, search=[])


def test_missing_explicit_file_and_bad_toml_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", {}, {})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[hub\n"), {}, {})
