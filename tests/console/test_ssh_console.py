"""The console over SSH, as a standby officer at home gets it (issue 11, item 5).

A real OpenSSH sshd (Debian's openssh-server: ``.ci/run`` installs it) listens on a loopback
port with a host key of its own; ``griddesk ssh-setup`` issues the officer's token and prints
the ``authorized_keys`` line that forces ``griddesk console`` with it. The officer's ``ssh``
runs in tmux at 80×24 (``TERM=xterm``) and 200×50: they see the board, sign for a case that was
dispatched to their unit, and quit. Then the link is dropped — once by killing the client (the
server sees a FIN), once by a relay that stops passing bytes and never closes (a phone out of
signal) — and the console must be gone from the machine within its bound: sshd's keep-alive
for the first, the console's own terminal probe (console/link_probe.py) for the second.
"""

from __future__ import annotations

import json
import os
import selectors
import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.console.test_e2e_tmux import (
    GRIDDESK,
    UNIT,
    Hub,
    Tmux,
    env,
    griddesk,
    hub,
    tmux,
    wait_until,
)

__all__ = ["env", "hub", "tmux"]  # fixtures, imported for their names

SSHD = Path("/usr/sbin/sshd")
KEEPALIVE_S = 3
"""The test sshd's ClientAliveInterval (× ClientAliveCountMax 2): a quiet session whose link
died ends in ~9 s. Longer than the console's 1 Hz repaint, so — as with a hall's 15 s — sshd
never probes while the console draws (the silent-link test relies on the console's own probe)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sshd:
    port: int
    user: str
    authorized_keys: Path
    client_key: Path
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def sshd(tmp_path: Path, env: dict[str, str]) -> Iterator[Sshd]:
    if not SSHD.exists():
        pytest.fail("OpenSSH's sshd is not installed (Debian: apt-get install openssh-server; "
                    ".ci/run does this)")  # fmt: skip
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # the privilege separation directory
    home = tmp_path / "ssh"
    home.mkdir()
    host_key, client_key = home / "host_ed25519", home / "officer_ed25519"
    for key in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True, env=env)  # fmt: skip
    authorized = home / "authorized_keys"
    authorized.touch(mode=0o600)
    port = _free_port()
    config = home / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {home / 'pid'}\n"
        f"AuthorizedKeysFile {authorized}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        f"ClientAliveInterval {KEEPALIVE_S}\nClientAliveCountMax 2\nAcceptEnv LANG LC_*\n"
        "AllowTcpForwarding no\nX11Forwarding no\nPrintMotd no\nPrintLastLog no\n",
        encoding="utf-8",
    )
    log = home / "sshd.log"
    process = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config)], stderr=log.open("wb"), env=env
    )
    deadline = time.monotonic() + 5 * UNIT
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail("sshd did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.05)
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    try:
        yield Sshd(port, user, authorized, client_key, process, log)
    finally:
        process.terminate()
        process.wait(5 * UNIT)


class Blackhole:
    """A TCP relay to the sshd that can go silent: it stops passing bytes and never closes —
    the link as it is when a phone loses its signal (no FIN, no RST)."""

    def __init__(self, target: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.target = target
        self.silent = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        client, _ = self.listener.accept()
        server = socket.create_connection(("127.0.0.1", self.target))
        self.held += [client, server]
        pairs = {client: server, server: client}
        with selectors.DefaultSelector() as sel:
            for s in pairs:
                sel.register(s, selectors.EVENT_READ)
            while not self.silent.is_set():
                for key, _ in sel.select(0.1):
                    if self.silent.is_set():
                        break
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    pairs[key.fileobj].sendall(data)  # type: ignore[index]

    def close(self) -> None:
        for s in (*self.held, self.listener):
            s.close()


def _consoles(token_file: Path) -> list[str]:
    """The console processes running with this officer's token file (by command line)."""
    found = subprocess.run(["pgrep", "-f", f"console .*--token-file {token_file}"],
                           capture_output=True, text=True)  # fmt: skip
    return found.stdout.split()


def _sessions(sshd: Sshd) -> list[str]:
    """This sshd's session processes (its children: one per connection)."""
    found = subprocess.run(["pgrep", "-P", str(sshd.process.pid)], capture_output=True, text=True)
    return found.stdout.split()


def _left(token_file: Path, sshd: Sshd) -> str:
    """What is still running, and what sshd said (the failure's explanation)."""
    tree = subprocess.run(["ps", "-ww", "-o", "pid,ppid,stat,args", "--forest", "-e"],
                          capture_output=True, text=True).stdout  # fmt: skip
    mine = [line for line in tree.splitlines() if "sshd" in line or str(token_file) in line]
    return "\n".join(mine) + "\n--- sshd:\n" + sshd.log.read_text(errors="replace")[-3000:]


def _setup(tmp_path: Path, env: dict[str, str], hub: Hub, sshd: Sshd) -> tuple[Path, str]:
    """A standby officer of 城管一中队 with an SSH key, and a case dispatched to the unit."""
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    griddesk(tmp_path, env, "operator", "add", "备勤张", "--role", "standby",
             "--unit", "enforcement-1", "--db", db)  # fmt: skip
    commander = tmp_path / "commander.token"
    commander.write_text(griddesk(tmp_path, env, "operator", "add", "指挥长", "--role",
                                  "commander", "--db", db))  # fmt: skip
    token_file = tmp_path / "officer.token"
    done = subprocess.run(
        [str(GRIDDESK), "ssh-setup", "备勤张", "--key", f"{sshd.client_key}.pub", "--db", db,
         "--hub", hub.url, "--token-file", str(token_file), "--lang", "en"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=10 * UNIT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith('restrict,pty,command="') and line.endswith(
        (sshd.client_key.with_suffix(".pub")).read_text().split()[1] + " " +
        (sshd.client_key.with_suffix(".pub")).read_text().split()[2]
    )  # fmt: skip
    assert "ClientAliveInterval" in done.stderr and oct(token_file.stat().st_mode)[-3:] == "600"
    sshd.authorized_keys.write_text(line + "\n")
    ctl = ("ctl", "--hub", hub.url, "--token-file", str(commander), "--json")
    out = griddesk(tmp_path, env, *ctl, "intake", "--category", "E0501", "--source", "patrol",
                   "--grid", "310115001001", "--title", "ssh-stall")  # fmt: skip
    case = json.loads(out)["case"]
    griddesk(tmp_path, env, *ctl, "accept", case)
    griddesk(tmp_path, env, *ctl, "assign", case, "城管一中队")
    return token_file, case


def _ssh(tmux: Tmux, sshd: Sshd, port: int, size: tuple[int, int], session: str) -> None:
    q = shlex.quote
    command = (
        f"TERM=xterm ssh -tt -p {port} -i {q(str(sshd.client_key))} -o BatchMode=yes "
        "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
        f"{q(sshd.user)}@127.0.0.1"
    )
    tmux("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), command)


def _pane(tmux: Tmux, session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session, check=False).stdout


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
def test_a_standby_officer_signs_for_a_case_over_ssh_and_quits(
    tmp_path: Path, env: dict[str, str], hub: Hub, tmux: Tmux, sshd: Sshd, size: tuple[int, int]
) -> None:
    token_file, case = _setup(tmp_path, env, hub, sshd)
    _ssh(tmux, sshd, sshd.port, size, "officer")
    wait_until("the board is live over ssh", lambda: "live" in _pane(tmux, "officer"),
               lambda: _pane(tmux, "officer") + sshd.log.read_text(errors="replace"))  # fmt: skip
    tmux("send-keys", "-t", "officer", "4")  # in progress: the dispatched case

    def row() -> str:
        return next((line for line in _pane(tmux, "officer").splitlines() if case in line), "")

    wait_until(f"{case} is listed", lambda: bool(row()), lambda: _pane(tmux, "officer"))
    tmux("send-keys", "-t", "officer", "g")  # sign for it (签收)
    commander = tmp_path / "commander.token"
    show = ("ctl", "--hub", hub.url, "--token-file", str(commander), "--json", "show", case)

    def status() -> str:
        return str(json.loads(griddesk(tmp_path, env, *show))["status"])

    wait_until("the hub stored the signature", lambda: status() == "acknowledged", status)
    tmux("send-keys", "-t", "officer", "q")
    wait_until("the ssh session ends with the console",
               lambda: tmux("has-session", "-t", "officer", check=False).returncode != 0,
               lambda: _pane(tmux, "officer"))  # fmt: skip
    wait_until("no console is left", lambda: not _consoles(token_file), str)


def test_a_killed_client_leaves_no_console_behind(
    tmp_path: Path, env: dict[str, str], hub: Hub, tmux: Tmux, sshd: Sshd
) -> None:
    token_file, _ = _setup(tmp_path, env, hub, sshd)
    _ssh(tmux, sshd, sshd.port, (80, 24), "officer")
    wait_until("the board is live over ssh", lambda: "live" in _pane(tmux, "officer"),
               lambda: _pane(tmux, "officer"))  # fmt: skip
    assert _consoles(token_file), "the forced command runs the console"
    tmux("kill-session", "-t", "officer")  # the client dies; its socket closes (FIN)
    wait_until(
        "no console is left",
        lambda: not _consoles(token_file),
        lambda: _left(token_file, sshd),
        within=10 * KEEPALIVE_S + 5 * UNIT,
    )


LINK_TIMEOUT_S = 3
"""The test console's ``console.link_timeout``: silent that long, it ends itself."""


def test_a_link_that_goes_silent_without_a_fin_leaves_no_console_behind(
    tmp_path: Path, env: dict[str, str], hub: Hub, tmux: Tmux, sshd: Sshd
) -> None:
    """OpenSSH's keep-alive never fires while the console repaints its countdowns; the
    console's own probe of its terminal notices the dead link, and the console exits (then
    sshd, its session quiet, ends the session by its keep-alive)."""
    token_file, _ = _setup(tmp_path, env, hub, sshd)
    config = tmp_path / "ssh-console.toml"
    config.write_text(f"[console]\nlink_timeout = {LINK_TIMEOUT_S}\n", encoding="utf-8")
    line = sshd.authorized_keys.read_text()
    assert " console --hub " in line
    sshd.authorized_keys.write_text(
        line.replace(" console --hub ", f" console --config {config} --hub ")
    )
    relay = Blackhole(sshd.port)
    try:
        _ssh(tmux, sshd, relay.port, (80, 24), "officer")
        wait_until("the board is live over ssh", lambda: "live" in _pane(tmux, "officer"),
                   lambda: _pane(tmux, "officer"))  # fmt: skip
        # Longer than the timeout while the link is up: answered probes keep the console on.
        time.sleep(2 * LINK_TIMEOUT_S)
        assert _consoles(token_file), "a console whose terminal answers goes on"
        relay.silent.set()  # nothing more passes, nothing closes
        wait_until(
            "no console is left",
            lambda: not _consoles(token_file),
            lambda: _left(token_file, sshd),
            within=2 * LINK_TIMEOUT_S + 5 * UNIT,
        )
        wait_until(
            "sshd ended the session",
            lambda: not _sessions(sshd),
            lambda: _left(token_file, sshd),
            within=10 * KEEPALIVE_S + 5 * UNIT,
        )
    finally:
        relay.close()
