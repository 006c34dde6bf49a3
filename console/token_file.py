"""Where an operator's token comes from — one rule for the console, ``ctl``, ``replay`` and
``record``: the ``--token-file`` flag, else ``$GRIDDESK_TOKEN``, else ``console.token_file``
in the config; with none of them the console asks at sign-in and a script is refused."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from console.settings_loader import ConfigError
from dispatch.config import Settings

TOKEN_ENV = "GRIDDESK_TOKEN"


def find_token(
    flag: Path | None, settings: Settings, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The token by the rule above; None when nothing names one. ``ConfigError`` when a named
    file cannot be read or is empty (a typo in a path must not look like "no token")."""
    file = flag
    if file is None and environ.get(TOKEN_ENV, "").strip():
        return environ[TOKEN_ENV].strip()
    if file is None and settings.console.token_file:
        file = Path(settings.console.token_file).expanduser()
    if file is None:
        return None
    try:
        token = file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the token file {file}: {exc.strerror or exc}") from None
    if not token:
        raise ConfigError(f"the token file {file} is empty")
    return token
