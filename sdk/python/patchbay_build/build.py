"""Builds a Python Patchbay plugin into a component with componentize-py.

    python -m patchbay_build PLUGIN_DIR              componentize
    python -m patchbay_build PLUGIN_DIR --bindings   generate wit_world/ for editors

The manifest is PLUGIN_DIR/patchbay.toml (checked here: a mistake stops the
build, naming the key); its version defaults to the package's. Build settings
come from PLUGIN_DIR/pyproject.toml, all optional:

    [tool.patchbay]
    world = "llm-provider"      # default: the family's (llm → llm-provider)
    module = "app"              # the module with the plugin's classes, in src/
    out = "dist/plugin.wasm"    # relative to the plugin

The build generates the module componentize-py exports
(generated/entry/patchbay_main.py): the manifest, and every operation of the
world routed to the plugin's classes; what a class leaves out answers
``unsupported``, and an exception that is not a connector error is
``permanent``.

The contract is the package's own (``patchbay_build/wit``, the version
``patchbay_sdk.CONTRACT_VERSION`` names). componentize-py comes from the same
environment as this interpreter (a dependency of the ``patchbay-sdk``
package; in a checkout, ``pip install -r sdk/python/requirements.txt``).
"""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import patchbay_sdk
from patchbay_build import contract, python_exports
from patchbay_build.manifest import ManifestError, read
from patchbay_sdk import CONTRACT_VERSION


def fail(message: str) -> None:
    print(f"patchbay-py: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        fail("usage: build.py PLUGIN_DIR [--bindings]")
    plugin = Path(args[0]).resolve()
    project = plugin / "pyproject.toml"
    if not project.is_file():
        fail(f"no pyproject.toml in {plugin}")
    pyproject = tomllib.loads(project.read_text())
    settings = pyproject.get("tool", {}).get("patchbay", {})
    try:
        manifest = read(plugin / "patchbay.toml", pyproject.get("project", {}).get("version"))
    except ManifestError as error:
        fail(str(error))
    manifest["contract-version"] = CONTRACT_VERSION
    world = settings.get("world") or contract.PORT_WORLDS[manifest["family"]]
    module = settings.get("module", "app")
    out = (plugin / settings.get("out", f"dist/{manifest['family']}-{manifest['name']}.wasm")).resolve()
    tool = shutil.which("componentize-py", path=str(Path(sys.executable).parent)) or shutil.which("componentize-py")
    if tool is None:
        fail("componentize-py is not installed: pip install -r sdk/python/requirements.txt")
    wit = contract.WIT
    generated = plugin / "generated" / "entry"
    generated.mkdir(parents=True, exist_ok=True)
    try:
        interfaces = contract.world_exports(wit, world)
    except ValueError as error:
        fail(str(error))
    (generated / "patchbay_main.py").write_text(python_exports.module(manifest, module, interfaces))
    if "--bindings" in sys.argv:
        command = [tool, "-d", str(wit), "-w", world, "bindings", str(plugin / "generated")]
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        # Only the SDK's runtime package goes into the component, not the
        # environment it is installed in.
        sdk = plugin / "generated" / "sdk"
        shutil.rmtree(sdk, ignore_errors=True)
        shutil.copytree(Path(patchbay_sdk.__file__).parent, sdk / "patchbay_sdk",
                        ignore=shutil.ignore_patterns("__pycache__"))
        command = [tool, "-d", str(wit), "-w", world, "componentize", "patchbay_main",
                   "-p", str(generated), "-p", str(plugin / "src"), "-p", str(sdk), "-o", str(out)]
    print(f"    componentize-py {world} ({module})", flush=True)
    if subprocess.run(command).returncode != 0:
        fail("componentize-py failed")
    if "--bindings" not in sys.argv:
        print(f"    {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
