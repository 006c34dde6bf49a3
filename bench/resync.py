"""Resync benchmark: a fresh client takes a hall of 20,000 open cases over the wire.

The hall is seeded through the hub's engine (real intakes, real events) into a SQLite file;
then a hub process (``python -m hub.runner``) serves it on loopback and this process measures,
alternating, over several repeats:

1. **client**: ``backend_client.HubClient`` from ``run()`` to LIVE — connect, hello, welcome,
   every snapshot chunk received, decoded into typed structs and folded into the mirror.
2. **bare**: a plain ``websockets`` client doing the same hello and only receiving the same
   frames and ``msgspec.json.decode``-ing them untyped (the fastest generic JSON decode here,
   so the baseline is strict).

Reports the medians, the ratio client/bare, and the bar of DESIGN.md §4 (resync of 20,000
cases ≤ 1 s). Loopback only.

    .venv/bin/python bench/resync.py [--cases 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from websockets.asyncio.client import connect  # noqa: E402

from backend_client import ConnectionState, HubClient  # noqa: E402
from dispatch.catalog import Catalog  # noqa: E402
from dispatch.commands import Intake  # noqa: E402
from dispatch.config import Settings  # noqa: E402
from dispatch.models import Actor, Role, Source  # noqa: E402
from dispatch.protocol import PROTOCOL_VERSION, Hello, encode  # noqa: E402
from hub.clock import WallClock  # noqa: E402
from hub.demo_city import demo_city  # noqa: E402
from hub.engine import Engine  # noqa: E402
from hub.store import Store  # noqa: E402

BAR_S = 1.0
LISTENING = re.compile(r"griddesk hub listening on (ws://127\.0\.0\.1:\d+) \(seq (\d+)\)")
SEED_BATCH = 2000


async def seed(url: str, count: int) -> str:
    """The demo city plus ``count`` open cases through the engine; the commander's token."""
    store = await Store.open(url, migrate=True)
    try:
        city = demo_city()
        await store.seed(city.areas, city.units, city.staff)
        token = await store.add_operator("bench", Role.COMMANDER)
        engine = Engine(store, Settings(), Catalog.default(), WallClock())
        await engine.start()
        try:
            grids = [a.code for a in city.areas if a.kind == "grid"]
            categories = list(Catalog.default())
            actor = Actor(name="bench", role=Role.COMMANDER)
            sources = list(Source)
            for first in range(0, count, SEED_BATCH):
                batch = []
                for n in range(first, min(count, first + SEED_BATCH)):
                    category = categories[n % len(categories)]
                    batch.append(
                        Intake(
                            id=f"seed-{n}",
                            kind=category.kind,
                            category=category.code,
                            source=sources[n % len(sources)],
                            title=f"待处置事件 {n} 号",
                            description="小区门口堆放生活垃圾两天未清运" * 2,
                            grid=grids[(n // len(categories)) % len(grids)],
                            address=f"朝阳路{n % 300}号",
                            reporter=f"12345-{n:08d}",
                        )
                    )
                await asyncio.gather(*(engine.execute(c, actor) for c in batch))
                print(f"  seeded {min(count, first + SEED_BATCH)}/{count}", end="\r", flush=True)
            print()
        finally:
            await engine.stop()
    finally:
        await store.close()
    return token


@contextlib.asynccontextmanager
async def hub_process(url: str) -> AsyncIterator[str]:
    """``python -m hub.runner`` on loopback port 0; yields its ws URL once it listens."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.runner", "--db", url, "--listen", "127.0.0.1:0",
        cwd=REPO, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    stderr = proc.stderr

    async def drain() -> None:  # the hub logs each connection: keep the pipe from filling
        while await stderr.readline():
            pass

    drainer: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(60):
            while True:
                line = (await stderr.readline()).decode()
                if not line:
                    raise RuntimeError("the hub exited before listening")
                if match := LISTENING.search(line):
                    break
        drainer = asyncio.create_task(drain())
        yield match.group(1)
    finally:
        proc.terminate()
        await proc.wait()
        if drainer is not None:
            drainer.cancel()


async def client_resync(url: str, token: str, expect: int) -> float:
    """Seconds from ``run()`` to LIVE for a fresh HubClient."""
    client = HubClient(url, token, client_name="bench/resync")
    started = time.perf_counter()
    task = asyncio.create_task(client.run())
    await client.wait_live(60)
    elapsed = time.perf_counter() - started
    assert client.state is ConnectionState.LIVE
    assert len(client.mirror.cases) == expect, len(client.mirror.cases)
    await client.close()
    await task
    return elapsed


async def bare_resync(url: str, token: str, expect: int) -> tuple[float, int]:
    """Seconds to connect, hello, and receive + decode every snapshot frame; bytes received."""
    hello = encode(Hello(protocol=PROTOCOL_VERSION, token=token, client="bench/bare"))
    started = time.perf_counter()
    received = cases = 0
    async with connect(url, compression=None, max_size=None) as ws:
        await ws.send(hello, text=True)
        while True:
            raw = await ws.recv(decode=False)
            received += len(raw)
            frame: dict[str, Any] = msgspec.json.decode(raw)
            if frame["type"] == "snapshot":
                cases += len(frame["cases"])
                if frame["chunk"] == frame["chunks"]:
                    break
        elapsed = time.perf_counter() - started
    assert cases == expect, cases
    return elapsed, received


async def main(count: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory(prefix="griddesk-resync-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'hub.db'}"
        print(f"seeding {count} cases through the engine …")
        started = time.perf_counter()
        token = await seed(url, count)
        print(f"  done in {time.perf_counter() - started:.1f} s")
        async with hub_process(url) as ws_url:
            await bare_resync(ws_url, token, count)  # warm-up: page cache, hub code paths
            client_s: list[float] = []
            bare_s: list[float] = []
            size = 0
            for _ in range(repeats):
                client_s.append(await client_resync(ws_url, token, count))
                seconds, size = await bare_resync(ws_url, token, count)
                bare_s.append(seconds)
    client_med, bare_med = statistics.median(client_s), statistics.median(bare_s)
    print(f"cases: {count}, snapshot on the wire: {size / 1e6:.1f} MB, repeats: {repeats}")
    print(
        f"client connect → LIVE: median {client_med * 1000:.0f} ms "
        f"(min {min(client_s) * 1000:.0f}, max {max(client_s) * 1000:.0f})"
    )
    print(
        f"bare receive + json decode: median {bare_med * 1000:.0f} ms "
        f"(min {min(bare_s) * 1000:.0f}, max {max(bare_s) * 1000:.0f})"
    )
    print(f"ratio client/bare: {client_med / bare_med:.2f}×")
    verdict = "PASS" if client_med <= BAR_S else "FAIL"
    print(f"bar (DESIGN.md §4): resync of {count} cases ≤ {BAR_S:g} s: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.repeats))
