"""The position load of bench/positions.py, in a process of its own: ``--workers`` grid
workers' terminals reporting a position every ``--every`` seconds each (spread evenly over
time), over ``--connections`` websockets connections logged in as the hall (a patrol bridge
may report for anyone). Each report moves its worker 20 m, so every point is kept. Runs for
``--seconds``, then prints one JSON line: reports sent, answered, points kept, and the ack
latency (send → ``position`` answer after the commit) p50/p99 in ms.

    python bench/position_load.py --port P --token T --staff-prefix B --workers 1000
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from datetime import UTC, datetime

import msgspec
from websockets.asyncio.client import connect


class Result(msgspec.Struct):
    sent: int
    answered: int
    kept: int
    errors: int
    ack_p50_ms: float
    ack_p99_ms: float


async def run(args: argparse.Namespace) -> Result:
    url = f"ws://127.0.0.1:{args.port}"
    hello = msgspec.json.encode({"type": "hello", "protocol": 1, "token": args.token,
                                 "client": "bench-positions"})  # fmt: skip
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    kept = errors = 0
    sockets = []
    for _ in range(args.connections):
        ws = await connect(url, compression=None, max_size=None)
        await ws.send(hello, text=True)
        sockets.append(ws)

    async def read(ws: object) -> None:
        nonlocal kept, errors
        async for frame in ws:  # type: ignore[attr-defined]
            raw = frame.encode() if isinstance(frame, str) else frame
            if b'"type":"position"' not in raw[:40] and b'"type":"error"' not in raw[:40]:
                continue  # welcome, snapshot, events, positions
            message = msgspec.json.decode(raw)
            rid = message.get("id") or message.get("command")
            started = sent_at.pop(rid, None)
            if started is None:
                continue
            if message["type"] == "position":
                acks.append(time.perf_counter() - started)
                kept += message["kept"]
            else:
                errors += 1

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    await asyncio.sleep(1.0)  # the snapshots are read before the clock starts
    rate = args.workers / args.every
    count = int(rate * args.seconds)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i in range(count):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        worker, lap = i % args.workers, i // args.workers
        at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        lon = 121.48 + (worker % 50) * 0.001 + lap * 0.0002  # 20 m east each report
        lat = 31.19 + (worker // 50) * 0.001
        rid = f"pos-{i}"
        frame = msgspec.json.encode({"type": "position", "id": rid,
                                     "staff": f"{args.staff_prefix}{worker}",
                                     "points": [{"at": at, "lon": lon, "lat": lat}]})  # fmt: skip
        sent_at[rid] = time.perf_counter()
        await sockets[i % len(sockets)].send(frame, text=True)
    deadline = loop.time() + 5
    while sent_at and loop.time() < deadline:  # noqa: ASYNC110 (the last answers, bounded)
        await asyncio.sleep(0.05)
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()
    acks.sort()

    def pct(q: float) -> float:
        if not acks:
            return math.nan
        return acks[min(len(acks) - 1, max(0, math.ceil(q * len(acks)) - 1))] * 1000

    return Result(sent=count, answered=len(acks), kept=kept, errors=errors + len(sent_at),
                  ack_p50_ms=pct(0.5), ack_p99_ms=pct(0.99))  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--staff-prefix", required=True)
    p.add_argument("--workers", type=int, default=1000)
    p.add_argument("--every", type=float, default=30.0, help="seconds between a worker's reports")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=20)
    result = asyncio.run(run(p.parse_args()))
    sys.stdout.write(msgspec.json.encode(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
