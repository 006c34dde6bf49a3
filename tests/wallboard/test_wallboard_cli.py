"""``griddesk wallboard`` as a person runs it, in its own process against a real hub:
``--export DIR --once`` writes one PNG of the wall and exits 0; a refused token exits 1 with
the reason and writes nothing; flags that make no sense together are refused up front."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from PySide6.QtGui import QImage
from server_fixtures import UNIT, running_hub, sqlite_url_in

from console.cli import main
from dispatch.models import Role

RUN = "import sys; from console.cli import main; sys.exit(main(sys.argv[1:]))"


async def wallboard(*args: str) -> tuple[int, str, str]:
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "GRIDDESK_LOCALE": "zh_CN"}
    env.pop("GRIDDESK_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, "wallboard", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), UNIT * 15)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_export_once_writes_one_png_of_the_wall_and_exits(tmp_path: Path) -> None:
    token = tmp_path / "token"
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        token.write_text(hub.tokens[Role.OBSERVER])
        folder = tmp_path / "wall"
        code, out, err = await wallboard(
            "--hub", hub.url, "--token-file", str(token), "--export", str(folder), "--once",
            "--size", "960x540",
        )  # fmt: skip
    assert code == 0, err
    written = sorted(folder.glob("wall-*.png"))
    assert len(written) == 1 and out.strip() == str(written[0])
    image = QImage(str(written[0]))
    assert (image.width(), image.height()) == (960, 540)
    assert "no font with Chinese glyphs" not in err


async def test_a_refused_token_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("not-a-token")
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        folder = tmp_path / "wall"
        code, _, err = await wallboard(
            "--hub", hub.url, "--token-file", str(token), "--export", str(folder), "--once",
            "--wait", "10",
        )  # fmt: skip
    assert code == 1
    assert "griddesk wallboard:" in err
    assert not folder.exists() or not any(folder.iterdir())


def test_once_without_export_is_refused(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("x")
    assert main(["wallboard", "--token-file", str(token), "--once"]) == 2
    assert main(["wallboard", "--token-file", str(token), "--every", "0"]) == 2
    assert main(["wallboard", "--token-file", str(token), "--size", "10x10"]) == 2


async def test_ctrl_c_closes_a_running_wall_cleanly(tmp_path: Path) -> None:
    """A wall exporting every N seconds runs until stopped; Ctrl+C ends it with status 0."""
    token = tmp_path / "token"
    folder = tmp_path / "wall"
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen"}
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        token.write_text(hub.tokens[Role.OBSERVER])
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUN, "wallboard", "--hub", hub.url, "--token-file", str(token),
            "--export", str(folder), "--every", "0.2", "--size", "640x360",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=env,
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + UNIT * 15
        while len(list(folder.glob("*.png"))) < 2:  # live, and still writing
            assert loop.time() < deadline and process.returncode is None
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), UNIT * 5)
    assert process.returncode == 0, err.decode()[-2000:]
