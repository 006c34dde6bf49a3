"""The layering of DESIGN.md holds at run time, not only in import-linter's static graph:
importing the pure domain pulls in no I/O framework, and the hub never loads UI packages."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN_FOR_DISPATCH = ("asyncio", "sqlalchemy", "websockets", "textual", "pyqtgraph", "hub")


def _modules_after_import(*modules: str) -> set[str]:
    code = "import json, sys\n" + "".join(f"import {m}\n" for m in modules)
    code += "print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_dispatch_imports_no_io_framework() -> None:
    loaded = _modules_after_import(
        "dispatch.models", "dispatch.workflow", "dispatch.sla", "dispatch.protocol",
        "dispatch.routing", "dispatch.metrics", "dispatch.catalog", "dispatch.scenario",
        "dispatch.scenario_gen", "dispatch.scenario_plan",
    )  # fmt: skip
    leaked = {m for m in loaded for f in FORBIDDEN_FOR_DISPATCH if m == f or m.startswith(f + ".")}
    assert leaked == set()


def test_hub_loads_no_ui() -> None:
    loaded = _modules_after_import("hub.engine", "hub.server")
    ui = {m for m in loaded if m.split(".")[0] in {"textual", "screens", "widgets", "wallboard"}}
    assert ui == set()
