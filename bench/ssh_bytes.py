"""Bytes on an SSH link in steady state: ``griddesk console`` next to ``top -d 1`` and ``htop``.

DESIGN.md §4 / issue 11 item 6: over SSH, steady state (only countdowns ticking) costs no
more than ``htop`` through the same sshd — ≤ 1.5 KB/s at 200×50 and ≤ 1 KB/s at 80×24.

One run starts a real OpenSSH sshd on a loopback port (Debian's openssh-server), a
``griddesk hub`` with the demo city on a SQLite file, and a steady hall: urgent cases
dispatched and ticking towards "on scene", general cases waiting to be accepted — and then
nothing more happens. For each terminal size, each program runs through ``ssh -tt`` in a
pseudo-terminal of that size with ``TERM=xterm``, as a standby officer's laptop would; after
it settles, the bytes the client's terminal receives are counted for a fixed window, and the
rate (B/s) is printed per program with the ratio console ÷ htop.

    python -m bench.ssh_bytes                           # 200×50 and 80×24, 20 s each
    python -m bench.ssh_bytes --sizes 80x24 --seconds 5 --settle 3 --lang en
    python -m bench.ssh_bytes --low-bandwidth           # the console with [console] low_bandwidth
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
GRIDDESK = Path(sys.executable).parent / "griddesk"
LISTENING = re.compile(r"griddesk hub listening on (ws://\S+)")
SIZES = ((200, 50), (80, 24))
BARS = {(200, 50): 1500.0, (80, 24): 1000.0}
"""B/s the console may cost at each size (DESIGN.md §4)."""


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    key: Path
    process: subprocess.Popen[bytes]


@dataclass(frozen=True)
class Measured:
    program: str
    size: tuple[int, int]
    seconds: float
    count: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, process: subprocess.Popen[bytes], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("sshd did not start")
        time.sleep(0.05)


@contextmanager
def sshd(home: Path, env: dict[str, str]) -> Iterator[Sshd]:
    """An sshd on loopback with its own host key, letting in one client key."""
    if not SSHD.exists():
        raise SystemExit("OpenSSH's sshd is not installed (apt-get install openssh-server)")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # the privilege separation directory
    home.mkdir()
    host_key, client_key = home / "host_ed25519", home / "client_ed25519"
    for key in (host_key, client_key):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, env=env
        )
    authorized = home / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text(), encoding="utf-8")
    authorized.chmod(0o600)
    port = _free_port()
    config = home / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {home / 'pid'}\n"
        f"AuthorizedKeysFile {authorized}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nAcceptEnv LANG LC_*\n"
        "AllowTcpForwarding no\nX11Forwarding no\nPrintMotd no\nPrintLastLog no\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config)],
        stderr=(home / "sshd.log").open("wb"),
        env=env,
    )
    try:
        _wait_port(port, process)
        user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True)
        yield Sshd(port, user.stdout.strip(), client_key, process)
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def hub(home: Path, env: dict[str, str]) -> Iterator[str]:
    """``griddesk hub --demo-city`` on a SQLite file and a free port; yields its URL."""
    db = f"sqlite:///{home / 'hall.db'}"
    process = subprocess.Popen(
        [str(GRIDDESK), "hub", "--demo-city", "--db", db, "--listen", "127.0.0.1:0"],
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if not found and (m := LISTENING.search(line)):
                found.append(m.group(1))
                ready.set()
        ready.set()

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        if not ready.wait(30) or not found:
            raise SystemExit("the hub did not start")
        yield found[0]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def steady_hall(cases: int, now: datetime) -> str:
    """A scenario (TOML) that leaves ``cases`` cases ticking: half urgent and dispatched (on
    scene due in 15 minutes), half general and waiting to be accepted. A replay pins the
    scenario's start to hub now and every step is at the start, so all are played at once."""
    start = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    at = start.strftime("%H:%M:%S")
    lines = [
        "[scenario]",
        'name = "steady"',
        'title = "steady hall"',
        f"date = {start.date().isoformat()}",
        'timezone = "UTC"',
        f'start = "{start.strftime("%H:%M")}"',
        f'end = "{(start + timedelta(hours=1)).strftime("%H:%M")}"',
    ]
    for n in range(cases):
        name = f"c{n}"
        urgent = n % 2 == 0
        lines += ["", "[[step]]", f'at = "{at}"', 'do = "intake"', f'case = "{name}"']
        if urgent:
            lines += [
                'kind = "component"',
                'category = "0103"',
                'source = "video"',
                'urgency = "urgent"',
                "position = { lon = 121.4952, lat = 31.2081 }",
            ]
        else:
            lines += ['kind = "event"', 'category = "E0501"', 'source = "patrol"']
        lines += [f'title = "steady {n}"', 'grid = "310115001001"']
        if urgent:
            lines += [
                "",
                "[[step]]",
                f'at = "{at}"',
                'do = "accept"',
                f'case = "{name}"',
                'by = "hall"',
            ]
            lines += [
                "",
                "[[step]]",
                f'at = "{at}"',
                'do = "dispatch"',
                f'case = "{name}"',
                'by = "hall"',
                'unit = "water"',
            ]
    return "\n".join(lines) + "\n"


def _set_size(fd: int, size: tuple[int, int]) -> None:
    columns, rows = size
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def measure(
    program: str,
    remote: str,
    link: Sshd,
    size: tuple[int, int],
    settle: float,
    seconds: float,
    dump: Path | None = None,
) -> Measured:
    """Run ``remote`` over ``ssh -tt`` in a pty of ``size``; count the bytes the terminal
    receives in ``seconds`` after ``settle`` seconds."""
    master, slave = pty.openpty()
    _set_size(slave, size)
    command = [
        "ssh",
        "-tt",
        "-p",
        str(link.port),
        "-i",
        str(link.key),
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        f"{link.user}@127.0.0.1",
        remote,
    ]
    env = {**os.environ, "TERM": "xterm", "LANG": "C.UTF-8"}
    env.pop("COLORTERM", None)
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    started = time.monotonic()
    window = (started + settle, started + settle + seconds)
    count = 0
    counted = bytearray()
    try:
        while (now := time.monotonic()) < window[1]:
            ready, _, _ = select.select([master], [], [], min(0.2, window[1] - now))
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break  # the program ended
            if not data:
                break
            if window[0] <= time.monotonic():
                count += len(data)
                if dump is not None:
                    counted += data
        if process.poll() is not None:
            raise SystemExit(f"{program} ended early (exit {process.returncode})")
        os.write(master, b"q")
        end = time.monotonic() + 10
        while process.poll() is None and time.monotonic() < end:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(10)
        os.close(master)
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        (dump / f"{program}-{size[0]}x{size[1]}.bytes").write_bytes(bytes(counted))
    return Measured(program, size, seconds, count)


def _parse_size(text: str) -> tuple[int, int]:
    columns, rows = text.lower().split("x")
    return int(columns), int(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ssh_bytes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes", default="200x50,80x24", help="COLSxROWS,… (default: %(default)s)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="window counted (default 20)")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds before (default 8)")
    parser.add_argument("--cases", type=int, default=16, help="cases in the hall (default 16)")
    parser.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN")
    parser.add_argument(
        "--low-bandwidth",
        action="store_true",
        help="run the console with [console] low_bandwidth = true",
    )
    parser.add_argument(
        "--programs", default="top,htop,griddesk", help="which of top,htop,griddesk (default: all)"
    )
    parser.add_argument(
        "--dump",
        type=Path,
        metavar="DIR",
        help="write each program's counted bytes to DIR (to see what they are)",
    )
    args = parser.parse_args(argv)
    sizes = [_parse_size(s) for s in args.sizes.split(",")]
    programs = args.programs.split(",")
    with tempfile.TemporaryDirectory(prefix="ssh-bytes-") as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDDESK_", "XDG_"))}
        xdg = {f"XDG_{k}_HOME": str(root / k.lower()) for k in ("CONFIG", "DATA", "STATE")}
        env |= xdg
        with sshd(root / "ssh", env) as link, hub(root, env) as url:
            token = root / "commander.token"
            made = subprocess.run(
                [
                    str(GRIDDESK),
                    "operator",
                    "add",
                    "值班长",
                    "--role",
                    "commander",
                    "--db",
                    f"sqlite:///{root / 'hall.db'}",
                ],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            token.write_text(made.stdout)
            token.chmod(0o600)
            scenario = root / "steady.toml"
            scenario.write_text(steady_hall(args.cases, datetime.now(UTC)), encoding="utf-8")
            played = subprocess.run(
                [
                    str(GRIDDESK),
                    "replay",
                    "--hub",
                    url,
                    "--token-file",
                    str(token),
                    "--quiet",
                    str(scenario),
                ],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
            )
            if played.returncode != 0:
                raise SystemExit(
                    "the steady hall was not played:\n" + played.stdout + played.stderr
                )
            q = shlex.quote
            options = ["--hub", q(url), "--token-file", q(str(token)), "--lang", args.lang]
            if args.low_bandwidth:
                config = root / "console.toml"
                config.write_text("[console]\nlow_bandwidth = true\n", encoding="utf-8")
                options += ["--config", q(str(config))]
            console = " ".join(
                [*(f"{k}={q(v)}" for k, v in xdg.items()), q(str(GRIDDESK)), "console", *options]
            )
            remote = {"top": "top -d 1", "htop": "htop", "griddesk": f"env {console}"}
            print(
                f"bytes received by the ssh client's terminal (TERM=xterm), {args.seconds:g} s "
                f"after {args.settle:g} s to settle; {args.cases} cases ticking, no new events"
            )
            print(f"console: --lang {args.lang}, low_bandwidth = {json.dumps(args.low_bandwidth)}")
            for size in sizes:
                found: dict[str, Measured] = {}
                for program in programs:
                    found[program] = measure(
                        program, remote[program], link, size, args.settle, args.seconds, args.dump
                    )
                    got = found[program]
                    print(
                        f"{size[0]}x{size[1]:<4} {program:<9} {got.rate:8.0f} B/s"
                        f"  ({got.count} B in {got.seconds:g} s)"
                    )
                _verdict(size, found)
    return 0


def _verdict(size: tuple[int, int], found: dict[str, Measured]) -> None:
    ours = found.get("griddesk")
    if ours is None:
        return
    ratios = [
        f"console/{p} {ours.rate / m.rate:.2f}x"
        for p, m in found.items()
        if p != "griddesk" and m.rate > 0
    ]
    if ratios:
        print(f"{size[0]}x{size[1]:<4} " + ", ".join(ratios))
    bar = BARS.get(size)
    if bar is not None:
        htop = found.get("htop")
        met = ours.rate <= bar and (htop is None or ours.rate <= htop.rate)
        print(
            f"{size[0]}x{size[1]:<4} bar: ≤ {bar:.0f} B/s and ≤ htop: "
            f"{'met' if met else 'NOT met'} ({ours.rate:.0f} B/s)"
        )


if __name__ == "__main__":
    sys.exit(main())
