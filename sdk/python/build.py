#!/usr/bin/env python3
"""Builds a Python Patchbay plugin into a component with componentize-py.

    python sdk/python/build.py PLUGIN_DIR            componentize
    python sdk/python/build.py PLUGIN_DIR --bindings generate wit_world/ for editors

Settings come from PLUGIN_DIR/pyproject.toml:

    [tool.patchbay]
    world = "llm-provider"      # the contract world
    module = "app"              # the module with the export classes, in src/
    out = "dist/plugin.wasm"    # relative to the plugin

The contract's wit/ directory is found by walking up from the plugin, or
given with PATCHBAY_WIT. componentize-py comes from the same environment as
this interpreter (``pip install -r sdk/python/requirements.txt``).
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

SDK = Path(__file__).resolve().parent


def fail(message: str) -> None:
    print(f"patchbay-py: {message}", file=sys.stderr)
    sys.exit(1)


def wit_dir(plugin: Path) -> Path:
    if os.environ.get("PATCHBAY_WIT"):
        return Path(os.environ["PATCHBAY_WIT"]).resolve()
    for directory in [plugin, *plugin.parents]:
        if (directory / "wit" / "worlds.wit").is_file():
            return directory / "wit"
    fail("cannot find the contract's wit/ directory; set PATCHBAY_WIT")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        fail("usage: build.py PLUGIN_DIR [--bindings]")
    plugin = Path(args[0]).resolve()
    project = plugin / "pyproject.toml"
    if not project.is_file():
        fail(f"no pyproject.toml in {plugin}")
    settings = tomllib.loads(project.read_text()).get("tool", {}).get("patchbay", {})
    world = settings.get("world") or fail('pyproject.toml has no [tool.patchbay] world = "..."')
    module = settings.get("module", "app")
    out = (plugin / settings.get("out", f"dist/{plugin.name}.wasm")).resolve()
    tool = shutil.which("componentize-py", path=str(Path(sys.executable).parent)) or shutil.which("componentize-py")
    if tool is None:
        fail("componentize-py is not installed: pip install -r sdk/python/requirements.txt")
    wit = wit_dir(plugin)
    if "--bindings" in sys.argv:
        command = [tool, "-d", str(wit), "-w", world, "bindings", str(plugin / "generated")]
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        command = [tool, "-d", str(wit), "-w", world, "componentize", module,
                   "-p", str(plugin / "src"), "-p", str(SDK), "-o", str(out)]
    print(f"    componentize-py {world} ({module})", flush=True)
    if subprocess.run(command).returncode != 0:
        fail("componentize-py failed")
    if "--bindings" not in sys.argv:
        print(f"    {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
