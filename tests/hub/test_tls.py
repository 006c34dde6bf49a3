"""A hub started with a certificate serves ``wss://``: a client trusting that certificate is
welcomed, a plain ``ws://`` client or one that does not trust it gets nowhere.

The certificate is a throwaway self-signed one made by the ``openssl`` command line.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from server_fixtures import UNIT, TestClient, seed_store, sqlite_url_in
from websockets.exceptions import InvalidHandshake

from dispatch.config import Settings
from dispatch.models import Role
from hub.runner import run_hub
from hub.server import HubServer


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid one day, and its key."""
    openssl = shutil.which("openssl")
    assert openssl is not None, "these tests need the openssl command line (Debian: openssl)"
    cert, key = directory / "hub.pem", directory / "hub.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=griddesk test hub",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@asynccontextmanager
async def tls_hub(directory: Path) -> AsyncIterator[tuple[int, dict[Role, str], Path]]:
    """``run_hub`` with TLS on 127.0.0.1 port 0: (port, operator tokens, certificate)."""
    cert, key = make_certificate(directory)
    url = sqlite_url_in(directory)
    tokens = await seed_store(url)
    base = Settings()
    hub = msgspec.structs.replace(
        base.hub, database=url, listen="127.0.0.1:0", tls_cert=str(cert), tls_key=str(key)
    )
    listening: asyncio.Future[HubServer] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_hub(
            msgspec.structs.replace(base, hub=hub),
            ready=listening.set_result,
            stop=stop,
        )
    )
    try:
        # Either the hub is up, or run_hub failed: then its exception is the test's failure.
        started: set[asyncio.Future[Any]] = {listening, task}
        await asyncio.wait(started, timeout=UNIT * 5, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
        assert listening.done(), "the hub did not start listening in time"
        server = listening.result()
        yield server.port, tokens, cert
    finally:
        stop.set()
        await asyncio.wait_for(task, UNIT * 5)


async def test_a_client_trusting_the_certificate_is_welcomed_over_wss(tmp_path: Path) -> None:
    async with tls_hub(tmp_path) as (port, tokens, cert):
        trust = ssl.create_default_context(cafile=str(cert))
        async with TestClient.connect(f"wss://127.0.0.1:{port}", ssl=trust) as client:
            welcome = await client.hello(tokens[Role.DISPATCHER])
            chunks = await client.snapshot()
    assert welcome.operator == "op-dispatcher" and welcome.resync == "snapshot"
    assert chunks[0].units, "the demo city came over the encrypted line"


async def test_plain_ws_to_the_tls_port_fails_and_the_hub_goes_on(tmp_path: Path) -> None:
    async with tls_hub(tmp_path) as (port, tokens, cert):
        with pytest.raises((InvalidHandshake, OSError)):
            async with TestClient.connect(f"ws://127.0.0.1:{port}"):
                pass
        trust = ssl.create_default_context(cafile=str(cert))
        async with TestClient.connect(f"wss://127.0.0.1:{port}", ssl=trust) as client:
            welcome = await client.hello(tokens[Role.COMMANDER])
    assert welcome.role is Role.COMMANDER


async def test_a_client_that_does_not_trust_the_certificate_is_refused(tmp_path: Path) -> None:
    async with tls_hub(tmp_path) as (port, _tokens, _cert):
        with pytest.raises(ssl.SSLCertVerificationError):
            async with TestClient.connect(
                f"wss://127.0.0.1:{port}", ssl=ssl.create_default_context()
            ):
                pass
