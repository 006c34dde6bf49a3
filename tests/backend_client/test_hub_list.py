"""A client given several hub URLs (config and ``--hub`` take a comma-separated list) tries
them in turn: an address that does not answer costs one short backoff, not the session."""

from __future__ import annotations

from pathlib import Path

from client_fixtures import hub_at
from server_fixtures import UNIT, sqlite_url_in

from backend_client import HubClient, hub_urls
from dispatch.models import Role


def test_a_comma_separated_list_is_read_in_order_blanks_dropped() -> None:
    assert hub_urls(" ws://a:8765, wss://b:8765 ,,") == ("ws://a:8765", "wss://b:8765")
    assert hub_urls(["ws://a:1", " "]) == ("ws://a:1",)
    assert hub_urls("ws://only:8765") == ("ws://only:8765",)


async def test_a_dead_first_hub_is_passed_over_for_the_next(tmp_path: Path) -> None:
    async with hub_at(sqlite_url_in(tmp_path)) as hub:
        dead = "ws://127.0.0.1:9"  # discard port: nothing listens, the connect is refused
        async with HubClient.connected(
            f"{dead},{hub.url}", hub.tokens[Role.COMMANDER], timeout=UNIT * 5
        ) as client:
            assert client.urls == (dead, hub.url)
            assert client.url == hub.url
            ack = await client.send(hub.intake(1, id=client.new_id()))
            assert ack.case in client.mirror.cases
