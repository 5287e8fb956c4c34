# Patchbay tasks. `just` lists them.

set shell := ["bash", "-euo", "pipefail", "-c"]

root := justfile_directory()
plugins_dir := root / "target/plugins"
# The real servers the host and integration tests run against, each started
# on loopback by its script (installed from apt, PyPI or npm when missing)
# and stopped afterwards.
test_servers := "bash tests/with-oauth-server.sh bash tests/with-localstripe.sh bash tests/with-telegram-server.sh bash tests/with-llm-server.sh bash tests/with-synapse.sh bash tests/with-smtp-server.sh bash tests/with-s3-server.sh bash tests/with-webdav-server.sh bash tests/with-sftp-server.sh bash tests/with-ftp-server.sh bash tests/with-postgres.sh bash tests/with-redis.sh"

# List the recipes.
default:
    @just --list

# Install what the build needs: the wasm32-wasip2 target.
setup:
    @if ! rustup target list --installed | grep -qx wasm32-wasip2; then \
        echo "==> installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)"; \
        rustup target add wasm32-wasip2; \
    fi

# Build every plugin (Rust, TypeScript, Python, C) into target/plugins/<family>-<name>.wasm (test guests: target/test-plugins).
build-plugins: build-rust-plugins build-ts-plugins build-python-plugins build-c-plugins

# Build the Rust plugins and the test guests (wasm32-wasip2, release).
build-rust-plugins: setup
    @echo "==> building the Rust plugins and test guests (wasm32-wasip2, release)"
    cd plugins && cargo build --release --workspace --exclude patchbay-sdk --quiet
    @mkdir -p {{plugins_dir}}
    @for dir in plugins/*/; do \
        crate=$(basename "$dir"); \
        [ -f "$dir/Cargo.toml" ] || continue; \
        wasm="target/guests/wasm32-wasip2/release/${crate//-/_}.wasm"; \
        [ -f "$wasm" ] || { echo "    skipped plugins/$crate: not a member of plugins/Cargo.toml (it has its own build.sh)"; continue; }; \
        cmp -s "$wasm" "{{plugins_dir}}/$crate.wasm" || cp "$wasm" "{{plugins_dir}}/$crate.wasm"; \
        echo "    target/plugins/$crate.wasm ($(stat -c %s {{plugins_dir}}/$crate.wasm) bytes)"; \
    done
    @mkdir -p target/test-plugins
    @for dir in tests/guests/*/; do \
        crate=$(basename "$dir"); \
        cp "target/guests/wasm32-wasip2/release/${crate//-/_}.wasm" "target/test-plugins/$crate.wasm"; \
    done
    @echo "    target/test-plugins: $(ls target/test-plugins | tr '\n' ' ')"

# Build the TypeScript plugins (npm packages, tsc, esbuild, componentize-js).
build-ts-plugins:
    @mkdir -p {{plugins_dir}}
    @mkdir -p target/plugin-digests
    @for dir in plugins/*/; do \
        [ -f "$dir/package.json" ] || continue; \
        name=$(basename "$dir"); digest=$(sdk/sources-digest.sh "$dir" sdk/js wit); \
        if [ -f "{{plugins_dir}}/$name.wasm" ] && [ "$(cat "target/plugin-digests/$name" 2>/dev/null)" = "$digest" ]; then \
            echo "==> $name (TypeScript): sources unchanged since its last build, kept"; continue; \
        fi; \
        echo "==> building $name (TypeScript: tsc, esbuild, componentize-js)"; \
        (cd "$dir" && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm install --no-audit --no-fund --loglevel=error; } && npm run --silent build); \
        echo "$digest" > "target/plugin-digests/$name"; \
    done

# Install componentize-py and zig (PyPI) in target/venv-plugins, for the Python and C plugins.
plugin-toolchains:
    @if ls plugins/*/pyproject.toml plugins/*/src/*.c >/dev/null 2>&1 && ! target/venv-plugins/bin/python -c 'import ziglang' 2>/dev/null; then \
        echo "==> installing componentize-py and zig (ziglang) in target/venv-plugins"; \
        python3 -m venv target/venv-plugins && target/venv-plugins/bin/pip install --quiet -r sdk/python/requirements.txt -r sdk/c/requirements.txt; \
    fi

# Build the Python plugins (componentize-py).
build-python-plugins: plugin-toolchains
    @mkdir -p {{plugins_dir}}
    @mkdir -p target/plugin-digests
    @for dir in plugins/*/; do \
        [ -f "$dir/pyproject.toml" ] || continue; \
        name=$(basename "$dir"); digest=$(sdk/sources-digest.sh "$dir" sdk/python wit); \
        if [ -f "{{plugins_dir}}/$name.wasm" ] && [ "$(cat "target/plugin-digests/$name" 2>/dev/null)" = "$digest" ]; then \
            echo "==> $name (Python): sources unchanged since its last build, kept"; continue; \
        fi; \
        echo "==> building $name (Python: componentize-py)"; \
        target/venv-plugins/bin/python sdk/python/build.py "$dir"; \
        echo "$digest" > "target/plugin-digests/$name"; \
    done

# Build the C plugins (a patchbay.toml and src/*.c: `patchbay c` bindings, zig, yyjson).
build-c-plugins: plugin-toolchains
    @mkdir -p {{plugins_dir}}
    @# Every binary of the workspace, as `just build` does: one feature set, so the dependency tree is compiled once.
    @if ls plugins/*/src/*.c >/dev/null 2>&1; then echo "==> building the host's binaries (the patchbay CLI's \`c\` commands make the bindings and the component)"; cargo build --workspace --bins --quiet; fi
    @for dir in plugins/*/; do \
        [ -f "$dir/patchbay.toml" ] && ls "$dir"src/*.c >/dev/null 2>&1 || continue; \
        echo "==> building $(basename "$dir") (C: patchbay c bindings, zig, yyjson)"; \
        PATCHBAY=target/debug/patchbay target/venv-plugins/bin/python sdk/c/build.py "$dir" --out "{{plugins_dir}}/$(basename "$dir").wasm"; \
    done

# The SDKs as packages in target/sdk-packages: rust/ (cargo package), js/ (npm pack), python/ (a wheel), c/ (a source tarball).
package-sdks: setup plugin-toolchains
    @echo "==> packaging the SDKs into target/sdk-packages (Rust, TypeScript, Python, C)"
    PYTHON=target/venv-plugins/bin/python sdk/package.sh

# Build the host (the `patchbay` CLI) and the mock servers.
build:
    @echo "==> building the host and the mock servers"
    cargo build --workspace --bins --quiet

# Run the demo: build the WooCommerce plugin, the CLI and the mock shop (nothing else), start the shop, list its orders through the host (SQLite state).
demo: setup
    @echo "==> building the WooCommerce plugin (wasm32-wasip2, release)"
    cd plugins && cargo build --release -p shop-woocommerce --quiet
    @mkdir -p target/demo/plugins && cp target/guests/wasm32-wasip2/release/shop_woocommerce.wasm target/demo/plugins/shop-woocommerce.wasm
    @echo "==> building the patchbay CLI and the mock WooCommerce shop"
    cargo build --quiet -p patchbay-cli --bin patchbay -p patchbay-tests --bin mock-woocommerce
    @bash tests/demo.sh

# Formatting and lints, host and guests, warnings denied.
lint: setup
    @echo "==> cargo fmt --check (host, guests)"
    cargo fmt --all --check
    cd plugins && cargo fmt --all --check
    @echo "==> cargo clippy -D warnings (host)"
    cargo clippy --workspace --all-targets --quiet -- -D warnings
    cargo clippy -p patchbay-tests --features bench --benches --quiet -- -D warnings
    @echo "==> cargo clippy -D warnings (guests, wasm32-wasip2)"
    cd plugins && cargo clippy --workspace --all-targets --quiet -- -D warnings

# Check that the contract generates bindings for JavaScript (jco) and Python (componentize-py).
check-contract:
    @echo "==> contract: bindings for JavaScript (jco) and Python (componentize-py)"
    @rm -rf target/contract && mkdir -p target/contract && cp -r wit target/contract/wit
    @cd tests/contract && npm install --no-audit --no-fund --loglevel=error >/dev/null
    @[ -x target/venv-contract/bin/componentize-py ] || { python3 -m venv target/venv-contract && target/venv-contract/bin/pip install --quiet -r tests/contract/requirements.txt; }
    @for world in shop-provider courier-provider payment-provider messaging-provider storage-provider llm-provider feed-provider action-provider everything; do \
        (cd target/contract && {{root}}/tests/contract/node_modules/.bin/jco guest-types wit --world-name $world -o js/$world >/dev/null) \
            || { echo "jco failed for $world"; exit 1; }; \
        target/venv-contract/bin/componentize-py -d target/contract/wit -w $world bindings target/contract/py/$world >/dev/null \
            || { echo "componentize-py failed for $world"; exit 1; }; \
        echo "    $world: TypeScript and Python bindings generated"; \
    done

# Benchmarks in release mode, written to BENCHMARKS.md (installs bapp-connectors in target/venv-bench to compare, wrk from apt for §6 and §7, moto, wsgidav, OpenSSH and pyftpdlib for §8, PostgreSQL and Redis for §9); `just bench --only-overhead`, `--only-calls`, `--only-load`, `--only-memory`, `--only-seed`, `--only-service`, `--only-webhooks`, `--only-storage` or `--only-replicas` rewrites §1, §2, §3, §4, §5, §6, §7, §8 or §9 alone; `just bench --profile OPERATION SECONDS` loops one of §1's operations for `perf` and writes nothing.
bench *args: build-plugins
    @if ! command -v wrk >/dev/null; then \
        echo "==> installing wrk (apt), the load generator of §6"; \
        sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; \
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null; \
    fi
    @[ -x target/venv-bench/bin/python ] && target/venv-bench/bin/python -c 'import bapp_connectors' 2>/dev/null || { \
        echo "==> installing bapp-connectors (the Python seed library) in target/venv-bench"; \
        python3 -m venv target/venv-bench && target/venv-bench/bin/pip install --quiet -r tests/benches/requirements.txt; }
    @echo "==> the WooCommerce plugin again, built at the other optimisation level (\"s\", for size, instead of its 3)"
    cd plugins && cargo build --release -p shop-woocommerce --quiet --target-dir ../target/guests-bench-opt --config 'profile.release.package.shop-woocommerce.opt-level="s"' 
    @mkdir -p target/bench && cp target/guests-bench-opt/wasm32-wasip2/release/shop_woocommerce.wasm target/bench/shop-woocommerce-other-opt-level.wasm
    @echo "==> the WooCommerce plugin stopping after each stage of a list call (fetch, parse, map), for §1's breakdown"
    @for stage in fetch parse map; do \
        (cd plugins && cargo build --release -p shop-woocommerce --features bench-stop-after-$stage --quiet --target-dir ../target/guests-bench-stages) && \
        cp target/guests-bench-stages/wasm32-wasip2/release/shop_woocommerce.wasm target/bench/shop-woocommerce-stop-after-$stage.wasm; \
    done
    @echo "==> benchmarks (release build; the first build takes a while)"
    bash tests/with-s3-server.sh bash tests/with-webdav-server.sh bash tests/with-sftp-server.sh bash tests/with-ftp-server.sh bash tests/with-postgres.sh bash tests/with-redis.sh cargo bench -p patchbay-tests --features bench --bench compare -- --out {{root}}/BENCHMARKS.md --python {{root}}/target/venv-bench/bin/python {{args}}

# The SDKs against the shared cases (sdk/status-cases.json, sdk/manifest-cases/) in TypeScript, Python and C (Rust: the guest unit tests).
test-sdks: plugin-toolchains
    @echo "==> SDK tests: TypeScript (node --test), Python (unittest), C (zig, native)"
    cd sdk/js && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm test --silent
    target/venv-plugins/bin/python -m unittest discover -s sdk/python/tests
    cargo build --workspace --bins --quiet
    PATCHBAY=target/debug/patchbay target/venv-plugins/bin/python sdk/c/tests/run_tests.py

# Install what `serve-check` needs: Debian's chromium (apt), playwright-core (npm), schemathesis (PyPI, target/venv-serve-check).
serve-check-tools:
    @if [ ! -x /usr/bin/chromium ]; then \
        echo "==> installing chromium (apt) for the dashboard check"; \
        sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; \
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null; \
    fi
    @cd tests/dashboard && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }
    @[ -x target/venv-serve-check/bin/schemathesis ] || { echo "==> installing schemathesis in target/venv-serve-check"; \
        python3 -m venv target/venv-serve-check && target/venv-serve-check/bin/pip install --quiet -r tests/serve-check-requirements.txt; }

# `patchbay serve` end to end as a process: config file, keys, a call, the dashboard in headless Chromium, schemathesis, SIGTERM.
serve-check: serve-check-tools build
    @echo "==> patchbay serve end to end (headless Chromium, schemathesis, SIGTERM)"
    SCHEMATHESIS=target/venv-serve-check/bin/schemathesis bash tests/serve-check.sh

# Install cargo-fuzz (crates.io) when it is missing.
fuzz-tools:
    @command -v cargo-fuzz >/dev/null || { echo "==> installing cargo-fuzz (cargo install)"; cargo install cargo-fuzz --locked --version 0.13.2 --quiet; }

# Fuzz every parser of untrusted input for SECONDS each (default 300), after replaying the committed seeds and regressions; crashes land in target/fuzz/artifacts.
fuzz seconds="300" *targets: fuzz-tools build-plugins
    tests/fuzz/run.sh {{seconds}} {{targets}}

# Run every check and test: lints, contract bindings, SDK and guest unit tests, host and integration tests, the fuzz targets briefly, the service end to end.
test: build-plugins lint check-contract build test-sdks package-sdks fuzz-tools
    @echo "==> guest unit tests and the Rust SDK's (native)"
    cd plugins && cargo test --workspace --quiet --target "$(rustc -vV | sed -n 's/^host: //p')"
    @echo "==> doc tests (host)"
    cargo test --workspace --doc --quiet
    @echo "==> host and integration tests (with the OAuth2 test server, localstripe, telegram-test-api, aimock, Synapse, aiosmtpd, moto, wsgidav, OpenSSH, pyftpdlib, PostgreSQL and Redis on loopback)"
    @if command -v cargo-nextest >/dev/null; then \
        {{test_servers}} cargo nextest run --workspace --no-fail-fast; \
    else \
        {{test_servers}} cargo test --workspace --no-fail-fast; \
    fi
    @echo "==> fuzz targets: seeds and regressions, then a few seconds each"
    tests/fuzz/run.sh 10
    @just serve-check
