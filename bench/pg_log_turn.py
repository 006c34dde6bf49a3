"""How a shared log's turn costs on PostgreSQL, bare asyncpg (no griddesk code): the ways to
allocate gap-free global seqs inside the committing transaction, each with 1 and 3 writers.

- ``xact-lock``: ``pg_advisory_xact_lock`` + read the log after our tail + insert + NOTIFY
  (what hub/store.py ``log_turn`` does; the read is needed anyway, to fold in the other hubs'
  events before deciding).
- ``counter``: ``UPDATE log_head SET seq = seq + n RETURNING seq`` (a one-row counter: its row
  lock serialises the writers the same way) + the same read + insert + NOTIFY.
- ``xact-lock, no notify``: the first without ``pg_notify``: what NOTIFY's commit-time lock
  costs (PostgreSQL serialises every notifying commit on one global lock).
Also the largest NOTIFY payload the server takes.

    .venv/bin/python -m bench.pg_log_turn [--pg URL] [--seconds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

import asyncpg

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


async def writer(dsn: str, mode: str, until: float, tails: list[int]) -> int:
    conn = await asyncpg.connect(dsn)
    done = 0
    try:
        while time.perf_counter() < until:
            async with conn.transaction():
                if mode == "counter":
                    head = await conn.fetchval("UPDATE log_head SET seq = seq + 1 RETURNING seq")
                    seq = head
                else:
                    await conn.execute("SELECT pg_advisory_xact_lock(42)")
                    seq = None
                await conn.fetch("SELECT seq FROM events WHERE seq > $1 ORDER BY seq", tails[0])
                if seq is None:
                    seq = (await conn.fetchval("SELECT coalesce(max(seq), 0) FROM events")) + 1
                await conn.execute("INSERT INTO events VALUES ($1, $2)", seq, "x" * 300)
                if mode != "xact-lock, no notify":
                    await conn.execute("SELECT pg_notify('bench_log', $1)", str(seq))
            tails[0] = seq
            done += 1
    finally:
        await conn.close()
    return done


async def main(args: argparse.Namespace) -> None:
    admin = await asyncpg.connect(args.pg)
    name = f"griddesk_bench_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = args.pg.rsplit("/", 1)[0] + "/" + name
    try:
        print(f"bare asyncpg, one transaction per event, {os.cpu_count()} CPUs, "
              f"{args.seconds:g} s each")  # fmt: skip
        print(f"{'mode':24} {'writers':>7} {'txn/s':>8}")
        for mode in ("xact-lock", "counter", "xact-lock, no notify"):
            for writers in (1, 3):
                setup = await asyncpg.connect(dsn)
                await setup.execute("DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS log_head;"
                                    "CREATE TABLE events (seq bigint PRIMARY KEY, body text);"
                                    "CREATE TABLE log_head (seq bigint NOT NULL);"
                                    "INSERT INTO log_head VALUES (0)")  # fmt: skip
                await setup.close()
                until = time.perf_counter() + args.seconds
                tails = [0]
                counts = await asyncio.gather(
                    *(writer(dsn, mode, until, tails) for _ in range(writers))
                )
                print(f"{mode:24} {writers:>7} {sum(counts) / args.seconds:8.0f}")
        probe = await asyncpg.connect(dsn)
        for size in (7999, 8000):
            try:
                await probe.execute("SELECT pg_notify('bench_log', $1)", "x" * size)
                print(f"NOTIFY payload of {size} bytes: taken")
            except asyncpg.PostgresError as exc:
                print(f"NOTIFY payload of {size} bytes: refused ({exc})")
        await probe.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--pg", default=DEFAULT_PG)
    p.add_argument("--seconds", type=float, default=3.0)
    asyncio.run(main(p.parse_args()))
