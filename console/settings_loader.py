"""Build the one :class:`~dispatch.config.Settings` a process runs with.

Three layers, later wins: the TOML file (``--config``, else the first default path that
exists, else nothing), then ``GRIDDESK_*`` environment variables, then command-line flags
given as dotted keys (``{"hub.listen": "0.0.0.0:9000"}``). The merged dict is validated once,
so a bad value is reported with its key and where it came from, whichever layer set it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from console.paths import default_config_paths, default_database_url
from dispatch.config import Settings

ENV_KEYS: Mapping[str, str] = {
    "GRIDDESK_HUB_LISTEN": "hub.listen",
    "GRIDDESK_DB": "hub.database",
    "GRIDDESK_TLS_CERT": "hub.tls_cert",
    "GRIDDESK_TLS_KEY": "hub.tls_key",
    "GRIDDESK_SPEED": "clock.speed",
    "GRIDDESK_HUB_URL": "console.hub_url",
    "GRIDDESK_TOKEN_FILE": "console.token_file",
    "GRIDDESK_LOCALE": "console.locale",
}
"""Environment variables read, and the settings key each one sets."""


class ConfigError(Exception):
    """The configuration cannot be used; ``str()`` is one line for a person to act on."""


def load_settings(
    path: Path | None,
    env: Mapping[str, str],
    overrides: Mapping[str, object],
    *,
    search: Sequence[Path] | None = None,
) -> Settings:
    """Settings from file < environment < flags, validated once.

    ``search`` replaces :func:`default_config_paths` (tests use it to stay away from the
    user's real config directory).
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}

    source = path if path is not None else _first_existing(search or default_config_paths())
    if source is not None:
        merged = _read_toml(source, explicit=path is not None)
        origin = {key: str(source) for key in _dotted_keys(merged)}

    for var, key in ENV_KEYS.items():
        if var in env:
            _put(merged, key, env[var], f"${var}")
            origin[key] = f"${var}"
    for key, value in overrides.items():
        _put(merged, key, value, "the command line")
        origin[key] = "the command line"

    try:
        settings = msgspec.convert(merged, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None

    _check(settings, origin)
    if not settings.hub.database:
        hub = msgspec.structs.replace(settings.hub, database=default_database_url())
        settings = msgspec.structs.replace(settings, hub=hub)
    return settings


def _first_existing(candidates: Sequence[Path]) -> Path | None:
    return next((p for p in candidates if p.is_file()), None)


def _read_toml(path: Path, *, explicit: bool) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        what = "config file" if explicit else "default config file"
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _dotted_keys(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            keys.extend(_dotted_keys(value, f"{key}."))
        else:
            keys.append(key)
    return keys


def _put(tree: dict[str, Any], key: str, value: object, where: str) -> None:
    *sections, leaf = key.split(".")
    node = tree
    for name in sections:
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{key} (from {where}): [{name}] must be a table")
        node = child
    node[leaf] = value


_AT = re.compile(r" - at `\$((?:\.\w+|\[\d+\])*)`$")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")


def _describe(exc: msgspec.ValidationError, origin: Mapping[str, str]) -> str:
    """msgspec's message rewritten around the dotted key: ``clock.speed: Expected ... (from …)``."""
    text = str(exc)
    path = ""
    if match := _AT.search(text):
        path = match.group(1).lstrip(".")
        text = text[: match.start()]
    key = re.sub(r"\[\d+\]", "", path)  # a list index names the key that holds the list
    if unknown := _UNKNOWN.search(text):
        key = f"{key}.{unknown.group(1)}" if key else unknown.group(1)
        text = "unknown key"
    where = _origin_of(key, origin)
    return f"config: {key or '(top level)'}: {text}" + (f" (from {where})" if where else "")


def _origin_of(key: str, origin: Mapping[str, str]) -> str:
    if key in origin:
        return origin[key]
    # A whole section may be wrong (e.g. ``hub = 3``): name whoever set anything under it.
    return next((where for k, where in origin.items() if k.startswith(f"{key}.")), "")


def _check(settings: Settings, origin: Mapping[str, str]) -> None:
    """Rules that span keys or need the OS, which the struct types cannot say."""
    try:
        ZoneInfo(settings.clock.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        where = origin.get("clock.timezone", "")
        raise ConfigError(
            f"config: clock.timezone: unknown time zone {settings.clock.timezone!r}"
            + (f" (from {where})" if where else "")
        ) from None
    if bool(settings.hub.tls_cert) != bool(settings.hub.tls_key):
        raise ConfigError("config: hub.tls_cert and hub.tls_key must be given together")
