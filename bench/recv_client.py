"""A minimal receive-only WebSocket client process for the fan-out benchmark.

A websockets library client costs ~41 µs of CPU per message (DESIGN.md §4): 200 of them in one
process fill a core, and the benchmark would measure its clients instead of the server. This
process holds many raw sockets on one ``epoll`` loop (no asyncio: its per-callback overhead
alone was ~50 µs a frame here) with a hand-rolled RFC 6455 reader that does only what a
receiver must: the opening handshake, one optional ``hello`` frame (each connection its own
when several are given), answering pings, and timestamping frames on arrival.

Each measured message carries a marker ``~b<index>.<send time_ns>~`` in its frame (in the case
title for the hub, in the payload for the bare server). Per connection, the first arrival of
each index is recorded as ``receive time_ns − send time_ns`` (``time.time_ns()`` on both sides of
the same machine), the receive time being taken when ``epoll`` reports the bytes; the index
goes back with it, so the benchmark can measure from a later hub-side instant of the same
message (its hand-off to the fan-out) as well.

Talks to its parent over pipes: prints ``ready`` once every connection is subscribed (its
welcome arrived, and the whole snapshot if one was announced), then on ``stop`` (or EOF) on stdin
prints one JSON line of results and exits. It exits by itself after ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import select
import socket
import struct
import sys
import time
from typing import Any

import msgspec

MARKER = re.compile(rb"~b(\d+)\.(\d+)~")
RECV_BYTES = 1 << 16
_scratch = bytearray(RECV_BYTES)  # recv_into one buffer: a fresh big bytes per recv costs ~25 µs
_view = memoryview(_scratch)


class Result(msgspec.Struct):
    """What one client process hands back to the benchmark."""

    latencies_us: list[int]  # one per (connection, message): its first arrival
    indices: list[int]  # the message index of each latency (same order)
    per_connection: list[int]  # distinct messages received by each connection
    marker_frames: int  # frames that carried at least one marker
    marker_bytes: int  # their payload bytes, to size the bare baseline's frames alike
    cpu_s: float  # this process's CPU time while subscribed (shows the clients are cheap)
    errors: list[str]


class Receiver:
    """One connection: blocking set-up (handshake, hello, resync), then non-blocking reads."""

    def __init__(self, host: str, port: int, path: str, hello: bytes | None, timeout: float):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.seen: dict[int, int] = {}
        self.marker_frames = 0
        self.marker_bytes = 0
        self.errors: list[str] = []
        self.fragments = bytearray()
        self.closed = False
        self.live = False
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            self._recv_blocking()
        status = bytes(self.buf[: self.buf.find(b"\r\n")])
        if b" 101 " not in status:
            raise ConnectionError(f"handshake refused: {status!r}")
        del self.buf[: end + 4]
        if hello is not None:
            self.send(0x1, hello)
        self._await_subscribed()
        self.sock.setblocking(False)
        self.live = True

    def _recv_blocking(self) -> None:
        data = self.sock.recv(RECV_BYTES)
        if not data:
            raise ConnectionError("closed during set-up")
        self.buf += data

    def _await_subscribed(self) -> None:
        """Read welcome, then the announced snapshot chunks (frames before ready are setup)."""
        chunks_seen, chunks = 0, None
        while True:
            for payload in self.frames(0):
                message: Any = msgspec.json.decode(payload)
                kind = message.get("type") if isinstance(message, dict) else None
                if kind == "welcome" and message.get("resync") != "snapshot":
                    return
                if kind == "snapshot":
                    chunks_seen, chunks = chunks_seen + 1, int(message["chunks"])
                    if chunks_seen >= chunks:
                        return
                if kind == "error":
                    raise ConnectionError(f"refused: {payload[:300]!r}")
            self._recv_blocking()

    def frames(self, now: int) -> list[bytes]:
        """Complete data frames in the buffer; control frames are handled here."""
        out: list[bytes] = []
        buf = self.buf
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                (length,) = struct.unpack_from("!H", buf, pos + 2)
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                (length,) = struct.unpack_from("!Q", buf, pos + 2)
                head = 10
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            opcode = b0 & 0x0F
            if opcode == 0x9:  # a receiver that ignores pings is dropped by the server
                self.send(0xA, payload)
            elif opcode == 0x8:
                self.closed = True
            elif opcode in (0x0, 0x1, 0x2):
                if not b0 & 0x80 or self.fragments:
                    self.fragments += payload
                    if not b0 & 0x80:
                        continue
                    payload, self.fragments = bytes(self.fragments), bytearray()
                out.append(payload)
        if pos:
            del buf[:pos]
        return out

    def on_readable(self, now: int) -> None:
        try:
            n = self.sock.recv_into(_scratch)
        except BlockingIOError:
            return
        if not n:
            self.closed = True
            return
        self.buf += _view[:n]
        for payload in self.frames(now):
            found = False
            for m in MARKER.finditer(payload):
                found = True
                index = int(m.group(1))
                if index not in self.seen:
                    self.seen[index] = now - int(m.group(2))
            if found:
                self.marker_frames += 1
                self.marker_bytes += len(payload)
            elif b'"type":"error"' in payload:
                self.errors.append(payload[:300].decode(errors="replace"))

    def send(self, opcode: int, payload: bytes) -> None:
        """A client frame: must be masked (RFC 6455 §5.3). Only hello and pongs, so small."""
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        if not self.live:
            self.sock.sendall(head + mask + masked)
            return
        self.sock.setblocking(True)  # a few bytes: a blocked send here would be a dead peer
        try:
            self.sock.sendall(head + mask + masked)
        finally:
            self.sock.setblocking(False)


def run(args: argparse.Namespace) -> int:
    hellos = [h.encode() if h else None for h in args.hello] or [None]
    try:
        receivers = [
            Receiver(args.host, args.port, args.path, hellos[i % len(hellos)], args.max_seconds)
            for i in range(args.connections)
        ]
    except OSError as exc:
        print(f"error {exc!r}", flush=True)
        return 1
    poller = select.epoll()
    by_fd = {r.sock.fileno(): r for r in receivers}
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    stdin = sys.stdin.fileno()
    poller.register(stdin, select.EPOLLIN)
    deadline = time.monotonic() + args.max_seconds
    cpu0 = time.process_time()
    print("ready", flush=True)
    stop = False
    while not stop and time.monotonic() < deadline:
        ready = poller.poll(1.0)
        now = time.time_ns()
        for fd, _ in ready:
            receiver = by_fd.get(fd)
            if receiver is None:
                stop = True  # a line (or EOF) from the parent
                continue
            receiver.on_readable(now)
            if receiver.closed:
                poller.unregister(fd)
                del by_fd[fd]
    cpu = time.process_time() - cpu0
    result = Result(
        latencies_us=[lat // 1000 for r in receivers for lat in r.seen.values()],
        indices=[index for r in receivers for index in r.seen],
        per_connection=[len(r.seen) for r in receivers],
        marker_frames=sum(r.marker_frames for r in receivers),
        marker_bytes=sum(r.marker_bytes for r in receivers),
        cpu_s=cpu,
        errors=[e for r in receivers for e in r.errors][:20],
    )
    for r in receivers:
        r.sock.close()
    sys.stdout.buffer.write(msgspec.json.encode(result) + b"\n")
    sys.stdout.flush()
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/")
    p.add_argument("--connections", type=int, default=50)
    p.add_argument(
        "--hello",
        action="append",
        default=[],
        help="first text frame to send (the hub's hello); repeated: one per connection in turn",
    )
    p.add_argument("--max-seconds", type=float, default=120.0)
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(run(parse_args()))
