"""Run a hub process: store, engine and websockets server, up in order and down in reverse.

``run_hub`` is what ``griddesk hub`` and the embedded demo call. ``python -m hub.runner`` is
a bare entry point (no config file) for scripts and tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import ssl
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from dispatch.catalog import Catalog
from dispatch.config import Settings
from hub.clock import Clock, VirtualClock, WallClock
from hub.engine import Engine
from hub.hub_lock import sole_hub
from hub.peers import LogFollower
from hub.server import HubServer
from hub.store import Store
from hub.ticker_lock import TickerLock

log = logging.getLogger(__name__)


def parse_listen(text: str) -> tuple[str, int]:
    """``"host:port"`` or ``"[v6addr]:port"`` → (host, port); ValueError says what is wrong."""
    value = text.strip()
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"listen address {text!r}: expected [ipv6]:port, e.g. [::1]:8765")
        port_text = rest[1:]
    else:
        host, sep, port_text = value.rpartition(":")
        if not sep:
            raise ValueError(f"listen address {text!r}: expected host:port, e.g. 127.0.0.1:8765")
        if ":" in host:
            raise ValueError(f"listen address {text!r}: put an IPv6 host in brackets, [::1]:8765")
    if not host:
        raise ValueError(f"listen address {text!r}: the host is missing")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"listen address {text!r}: the port must be a number 0-65535")
    return host, int(port_text)


def _tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def run_hub(
    settings: Settings,
    *,
    demo_city: bool = False,
    clock: Clock | None = None,
    ready: Callable[[HubServer], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM or ``stop`` is set; ``ready`` is called once listening."""
    hub = settings.hub
    host, port = parse_listen(hub.listen)  # before opening anything: a typo fails fast
    if bool(hub.tls_cert) != bool(hub.tls_key):
        raise ValueError("TLS needs both hub.tls_cert and hub.tls_key")
    tls = _tls_context(hub.tls_cert, hub.tls_key) if hub.tls_cert else None
    stop = stop or asyncio.Event()
    store = await Store.open(hub.database, migrate=True)
    try:
        async with sole_hub(store):
            await _serve(store, settings, host, port, tls, stop, demo_city, clock, ready)
    finally:
        await store.close()


async def _serve(
    store: Store,
    settings: Settings,
    host: str,
    port: int,
    tls: ssl.SSLContext | None,
    stop: asyncio.Event,
    demo_city: bool,
    clock: Clock | None,
    ready: Callable[[HubServer], None] | None,
) -> None:
    """The engine and the websockets server on an open store, until ``stop``."""
    hub = settings.hub
    if demo_city:
        await _seed_demo_city(store)
    # On a shared store (PostgreSQL, any number of hubs) the ticker runs where the ticker
    # lock is held, and the other hubs' events are followed; a SQLite hub ticks alone.
    shared = store.shared
    clock = clock or _clock(settings)
    engine = Engine(store, settings, Catalog.default(), clock, ticker=not shared)
    await engine.start()
    peers: list[asyncio.Task[None]] = []
    if shared:
        peers = [
            asyncio.create_task(LogFollower(engine, store).run(), name="griddesk-log-follower"),
            asyncio.create_task(TickerLock(engine, store).run(), name="griddesk-ticker-lock"),
        ]
    try:
        server = HubServer(engine, store, hub, ssl=tls)
        await server.start(host, port)
        try:
            scheme = "wss" if tls else "ws"
            shown = f"[{host}]" if ":" in host else host
            log.info(
                "griddesk hub listening on %s://%s:%d (seq %d)",
                scheme,
                shown,
                server.port,
                engine.seq,
            )
            if ready is not None:
                ready(server)
            await _wait_for_stop(stop)
            log.info("griddesk hub stopping")
        finally:
            await server.close()
    finally:
        for task in peers:
            task.cancel()
        for task in peers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await engine.stop()


def _clock(settings: Settings) -> Clock:
    """The wall clock, or a virtual one from now at ``clock.speed`` (a training hub)."""
    speed = settings.clock.speed
    if speed == 1.0:
        return WallClock()
    log.warning("hub clock runs at %g× the wall clock: deadlines and escalations follow it", speed)
    return VirtualClock(datetime.now(UTC), speed)


async def _seed_demo_city(store: Store) -> None:
    from hub.demo_city import demo_city, demo_rota  # only demo runs need the demo data

    if not await store.is_empty():
        log.info("demo city not loaded: the store already holds a hall")
        return
    city = demo_city()
    await store.seed(city.areas, city.units, city.staff)
    await store.seed_rota(demo_rota())
    log.info(
        "demo city loaded: %d areas, %d units, %d staff",
        len(city.areas),
        len(city.units),
        len(city.staff),
    )


async def _wait_for_stop(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available off the main thread or on Windows; then only ``stop`` ends the hub.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.runner", description=__doc__)
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the store")
    parser.add_argument("--listen", default=Settings().hub.listen, help="host:port (0: any)")
    parser.add_argument("--demo-city", action="store_true", help="seed the demo city if empty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    base = Settings()
    hub = msgspec.structs.replace(base.hub, database=args.db, listen=args.listen)
    asyncio.run(run_hub(msgspec.structs.replace(base, hub=hub), demo_city=args.demo_city))


if __name__ == "__main__":
    main()
