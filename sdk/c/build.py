#!/usr/bin/env python3
"""Builds a C Patchbay plugin into a component.

    python sdk/c/build.py PLUGIN_DIR [--out FILE]

0. the manifest, PLUGIN_DIR/patchbay.toml, checked (a mistake stops the build,
   naming the key) and generated into C with a weak ``unsupported`` default
   for every operation the plugin does not define
   (generated/patchbay_main.c);
1. C bindings for the plugin's world (``patchbay-c bindings``: wit-bindgen c,
   world renamed to ``plugin``) into PLUGIN_DIR/generated;
2. compiles the plugin, the bindings, the SDK (sdk/c) and yyjson with zig
   (``python -m ziglang cc --target=wasm32-wasi -mexec-model=reactor``);
3. turns the core module into a component (``patchbay-c componentize``, with
   the WASI preview1 reactor adapter).

The sources are PLUGIN_DIR/src/*.c; the world is the family's (llm →
llm-provider); the component goes to --out, by default
PLUGIN_DIR/dist/<family>-<name>.wasm.

yyjson (the JSON library the SDK uses) comes from its PyPI source
distribution, pinned by SHA-256, unpacked under target/c-deps.
``PATCHBAY_C_TOOL`` names the patchbay-c binary (default:
target/debug/patchbay-c, built by ``cargo build -p patchbay-c``).
"""

import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

SDK = Path(__file__).resolve().parent
ROOT = SDK.parent.parent
sys.path.insert(0, str(SDK.parent / "python"))

from patchbay_build import c_exports, contract  # noqa: E402
from patchbay_build.manifest import ManifestError, read  # noqa: E402
YYJSON = ("yyjson", "4.0.6", "fcd4dc15c1e39a30bf9fa85d56903029111506860fc3080ab0d81c6c6dacaa8c")


def fail(message: str) -> None:
    print(f"patchbay-c: {message}", file=sys.stderr)
    sys.exit(1)


def run(step: str, command: list) -> None:
    print(f"    {step}", flush=True)
    if subprocess.run([str(c) for c in command]).returncode != 0:
        fail(f"{step} failed")


def yyjson() -> Path:
    """yyjson.c/.h from the PyPI sdist of the `yyjson` package (which vendors them)."""
    name, version, sha256 = YYJSON
    target = ROOT / "target" / "c-deps" / f"yyjson-{version}"
    if (target / "yyjson.c").is_file():
        return target
    print(f"    fetching {name} {version} (C sources) from PyPI", flush=True)
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    page = urllib.request.urlopen(f"{index}/{name}/").read().decode()
    match = re.search(rf'href="([^"]*/{name}-{re.escape(version)}\.tar\.gz)[^"]*"', page)
    if match is None:
        fail(f"no source distribution of {name} {version} on {index}")
    data = urllib.request.urlopen(match.group(1)).read()
    if hashlib.sha256(data).hexdigest() != sha256:
        fail(f"{name} {version}: SHA-256 mismatch, refusing the download")
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in ("yyjson.c", "yyjson.h"):
            source = archive.extractfile(f"{name}-{version}/yyjson/{member}")
            (target / member).write_bytes(source.read())
        license_ = archive.extractfile(f"{name}-{version}/LICENSE")
        (target / "LICENSE").write_bytes(license_.read())
    return target


def wit_dir(plugin: Path) -> Path:
    if os.environ.get("PATCHBAY_WIT"):
        return Path(os.environ["PATCHBAY_WIT"]).resolve()
    for directory in [plugin, *plugin.parents]:
        if (directory / "wit" / "worlds.wit").is_file():
            return directory / "wit"
    fail("cannot find the contract's wit/ directory; set PATCHBAY_WIT")


def main() -> None:
    args = sys.argv[1:]
    out_arg = None
    if "--out" in args:
        at = args.index("--out")
        if at + 1 >= len(args):
            fail("--out needs a file")
        out_arg = args[at + 1]
        del args[at:at + 2]
    if len(args) != 1:
        fail("usage: build.py PLUGIN_DIR [--out FILE]")
    plugin = Path(args[0]).resolve()
    version = re.search(r'PATCHBAY_CONTRACT_VERSION "([^"]+)"', (SDK / "include" / "patchbay.h").read_text())
    try:
        manifest = read(plugin / "patchbay.toml", "0.1.0")
    except ManifestError as error:
        fail(str(error))
    manifest["contract-version"] = version.group(1)
    world = contract.PORT_WORLDS[manifest["family"]]
    sources = sorted((plugin / "src").glob("*.c")) or fail(f"no C sources in {plugin / 'src'}")
    out = Path(out_arg).resolve() if out_arg else plugin / "dist" / f"{manifest['family']}-{manifest['name']}.wasm"
    tool = Path(os.environ.get("PATCHBAY_C_TOOL", ROOT / "target" / "debug" / "patchbay-c"))
    if not tool.is_file():
        fail(f"{tool} is missing: cargo build -p patchbay-c")
    generated = plugin / "generated"
    json_dir = yyjson()
    wit = wit_dir(plugin)
    run(f"bindings for {world} (wit-bindgen c)", [tool, "bindings", "--wit", wit, "--world", world,
                                                  "--out", generated])
    (generated / "patchbay_main.c").write_text(c_exports.module(manifest, contract.world_exports(wit, world)))
    core = ROOT / "target" / "c-build" / f"{plugin.name}.core.wasm"
    core.parent.mkdir(parents=True, exist_ok=True)
    run("compile (zig cc, wasm32-wasi reactor)", [
        sys.executable, "-m", "ziglang", "cc", "--target=wasm32-wasi", "-mexec-model=reactor",
        "-O2", "-g0", "-s", "-std=c11", "-Wall", "-Werror", "-Wno-unused-function",
        "-I", generated, "-I", SDK / "include", "-I", json_dir,
        *sources, generated / "patchbay_main.c", generated / "plugin.c", generated / "plugin_component_type.o", SDK / "src" / "patchbay.c",
        json_dir / "yyjson.c", "-o", core,
    ])
    out.parent.mkdir(parents=True, exist_ok=True)
    run("componentize (wit-component, preview1 reactor adapter)", [tool, "componentize", "--module", core,
                                                                     "--out", out])
    print(f"    {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
