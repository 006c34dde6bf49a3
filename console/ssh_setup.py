"""``griddesk ssh-setup``: give a standby officer the console over SSH, and nothing else.

After hours the standby officers work from home on a laptop, often over a phone tether. The
safe way to let them in is OpenSSH's own: one key per officer in the hall account's
``authorized_keys``, each key's line forcing ``griddesk console`` with that officer's own token
file (``command="…"``) and switching off everything else an SSH login allows (``restrict``:
no port, agent or X11 forwarding; ``pty`` given back, a console needs a terminal). The hall's
sshd and the console keep a dead link from holding a session: a phone that lost its signal
sends no FIN, the console notices its terminal stopped answering (console/link_probe.py) and
exits, and sshd's keep-alives end the session it leaves quiet.

This module makes the lines; the CLI issues the officer a fresh token (the old one, and its
sessions, end: PROTOCOL.md close 4003) and writes it where the forced command reads it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
"""Public key types an ``authorized_keys`` line may carry (OpenSSH 9)."""


class NotAPublicKey(ValueError):
    """A file that is not one OpenSSH public key; the message says why."""


def public_key(text: str) -> str:
    """The key of a ``.pub`` file as ``type base64 [comment]``, or :class:`NotAPublicKey`."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise NotAPublicKey(f"expected one public key line, found {len(lines)}")
    words = lines[0].split()
    if "PRIVATE KEY" in lines[0]:
        raise NotAPublicKey("that is a private key: give the .pub file")
    if len(words) < 2 or words[0] not in KEY_TYPES:
        raise NotAPublicKey(
            "not an OpenSSH public key (expected e.g. 'ssh-ed25519 AAAA… name'); "
            "a line with options already set is refused too"
        )
    return " ".join(words)


def console_command(griddesk: Path, hub_url: str, token_file: Path, locale: str) -> str:
    """The forced command: the console on ``hub_url`` as the token file's operator."""
    return shlex.join(
        [str(griddesk), "console", "--hub", hub_url, "--token-file", str(token_file),
         "--lang", locale]
    )  # fmt: skip


def authorized_keys_line(key: str, command: str) -> str:
    """One ``authorized_keys`` line: ``key`` may only run ``command``, in a terminal."""
    quoted = command.replace("\\", "\\\\").replace('"', '\\"')
    return f'restrict,pty,command="{quoted}" {key}'


SSHD_SNIPPET = """\
# /etc/ssh/sshd_config.d/griddesk.conf — the hall account's logins (here: {user})
Match User {user}
    # Keys only; each key's authorized_keys line forces the console (griddesk ssh-setup).
    AuthenticationMethods publickey
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    # A link that died without a FIN (a phone out of signal): the console notices its
    # terminal stopped answering (console.link_timeout) and exits; these keep-alives then
    # end the quiet session. Nothing is left running.
    ClientAliveInterval 15
    ClientAliveCountMax 4
    TCPKeepAlive yes
    # The officer's terminal type comes with the login; the language too, if the laptop
    # sends it (the console's --lang in the key line decides otherwise).
    AcceptEnv LANG LC_*
    AllowTcpForwarding no
    AllowAgentForwarding no
    X11Forwarding no
    PermitTunnel no
"""


def sshd_snippet(user: str) -> str:
    return SSHD_SNIPPET.format(user=user)
