#!/usr/bin/env bash
# Packages the four SDKs the way each ecosystem installs them, into OUT
# (default target/sdk-packages):
#   rust/    patchbay-sdk-V.crate, patchbay-sdk-macros-V.crate   (cargo package, verified)
#   js/      patchbay-sdk-V.tgz                                  (npm pack of @patchbay/sdk)
#   python/  patchbay_sdk-V-py3-none-any.whl                     (pip wheel)
#   c/       patchbay-c-sdk-V.tar.gz                             (headers, sources, build.py, yyjson)
# Each carries the contract it builds against (wit/); V is the workspace's
# version, which `patchbay new` scaffolds with. PYTHON: an interpreter with
# pip (default python3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/target/sdk-packages}" && cd "${1:-$root/target/sdk-packages}" && pwd)"
python="${PYTHON:-python3}"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -1)"
stage="$root/target/sdk-build"
rm -rf "$stage" "$out"/{rust,js,python,c}
mkdir -p "$stage" "$out"/{rust,js,python,c}

echo "    rust: cargo package patchbay-sdk-macros, patchbay-sdk ($version)"
(cd "$root/plugins" && cargo package -p patchbay-sdk-macros -p patchbay-sdk --allow-dirty --quiet)
cp "$root/target/guests/package/patchbay-sdk-$version.crate" "$root/target/guests/package/patchbay-sdk-macros-$version.crate" "$out/rust/"

echo "    js: npm pack @patchbay/sdk"
mkdir -p "$stage/js"
# Links (wit/, ports.json) become files: npm pack leaves links out.
cp -rL "$root"/sdk/js/{bin,src,wit,ports.json,README.md,package.json} "$stage/js/"
(cd "$stage/js" && npm pack --silent --pack-destination "$out/js" >/dev/null)

echo "    python: pip wheel patchbay-sdk"
mkdir -p "$stage/python"
cp -rL "$root"/sdk/python/{patchbay_sdk,patchbay_build,README.md,pyproject.toml} "$stage/python/"
find "$stage/python" -name __pycache__ -prune -exec rm -rf {} +
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$out/python" "$stage/python"

echo "    c: patchbay-c-sdk-$version.tar.gz"
"$python" -c "import sys; sys.path.insert(0, sys.argv[1]); import build; build.yyjson()" "$root/sdk/c" >/dev/null
mkdir -p "$stage/c/patchbay-c-sdk-$version"
cp -rL "$root"/sdk/c/{build.py,include,src,patchbay_build,yyjson,requirements.txt,README.md} "$stage/c/patchbay-c-sdk-$version/"
find "$stage/c" -name __pycache__ -prune -exec rm -rf {} +
tar -czf "$out/c/patchbay-c-sdk-$version.tar.gz" -C "$stage/c" "patchbay-c-sdk-$version"

for file in "$out"/*/*; do echo "    ${file#"$root"/} ($(stat -c %s "$file") bytes)"; done
