#!/usr/bin/env python3
"""Builds a C Patchbay plugin into a component.

    python sdk/c/build.py PLUGIN_DIR [--out FILE]

0. the manifest, PLUGIN_DIR/patchbay.toml, checked (a mistake stops the build,
   naming the key) and generated into C with a weak ``unsupported`` default
   for every operation the plugin does not define
   (generated/patchbay_main.c);
1. C bindings for the plugin's world (``patchbay c bindings``: wit-bindgen c,
   world renamed to ``plugin``) into PLUGIN_DIR/generated;
2. compiles the plugin, the bindings, the SDK (sdk/c) and yyjson with zig
   (``python -m ziglang cc --target=wasm32-wasi -mexec-model=reactor``);
3. turns the core module into a component (``patchbay c componentize``, with
   the WASI preview1 reactor adapter).

The sources are PLUGIN_DIR/src/*.c; the world is the family's (llm →
llm-provider); the component goes to --out, by default
PLUGIN_DIR/dist/<family>-<name>.wasm.

The contract is the SDK's own (``patchbay_build/wit``, the version
``PATCHBAY_CONTRACT_VERSION`` names). yyjson (the JSON library the SDK uses)
is in the SDK's ``yyjson/``: the source tarball carries it; in a checkout it
comes from yyjson's PyPI source distribution, pinned by SHA-256, on the first
build. ``PATCHBAY`` names the ``patchbay`` binary (default: ``patchbay`` on
PATH).
"""

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

SDK = Path(__file__).parent.absolute()
# patchbay_build, the manifest and contract helpers the Python SDK's build
# shares: a directory of the tarball, a link to sdk/python's in a checkout.
sys.path.insert(0, str(SDK))

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
    """yyjson.c/.h: the SDK's yyjson/, fetched from the PyPI sdist of the
    `yyjson` package (which vendors them) when missing."""
    name, version, sha256 = YYJSON
    target = SDK / "yyjson"
    if (target / "yyjson.c").is_file() and version in (target / "VERSION").read_text():
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
    (target / "VERSION").write_text(f"{name} {version} (PyPI sdist, sha256 {sha256})\n")
    return target


def patchbay() -> str:
    """The patchbay binary: $PATCHBAY, else patchbay on PATH."""
    tool = os.environ.get("PATCHBAY") or shutil.which("patchbay")
    if not tool or not Path(tool).is_file():
        fail(f"the patchbay binary is missing ({tool or 'not on PATH'}): set PATCHBAY or put patchbay on PATH")
    return tool


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
    tool = patchbay()
    generated = plugin / "generated"
    json_dir = yyjson()
    wit = contract.WIT
    run(f"bindings for {world} (wit-bindgen c)", [tool, "c", "bindings", "--wit", wit, "--world", world,
                                                  "--out", generated])
    (generated / "patchbay_main.c").write_text(c_exports.module(manifest, contract.world_exports(wit, world)))
    core = generated / "plugin.core.wasm"
    run("compile (zig cc, wasm32-wasi reactor)", [
        sys.executable, "-m", "ziglang", "cc", "--target=wasm32-wasi", "-mexec-model=reactor",
        "-O2", "-g0", "-s", "-std=c11", "-Wall", "-Werror", "-Wno-unused-function",
        "-I", generated, "-I", SDK / "include", "-I", json_dir,
        *sources, generated / "patchbay_main.c", generated / "plugin.c", generated / "plugin_component_type.o", SDK / "src" / "patchbay.c",
        json_dir / "yyjson.c", "-o", core,
    ])
    out.parent.mkdir(parents=True, exist_ok=True)
    run("componentize (wit-component, preview1 reactor adapter)", [tool, "c", "componentize", "--module", core,
                                                                     "--out", out])
    print(f"    {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
