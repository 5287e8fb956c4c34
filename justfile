# Patchbay tasks. `just` lists them.

set shell := ["bash", "-euo", "pipefail", "-c"]

plugins_dir := justfile_directory() / "target/plugins"

# List the recipes.
default:
    @just --list

# Install what the build needs: the wasm32-wasip2 target.
setup:
    @if ! rustup target list --installed | grep -qx wasm32-wasip2; then \
        echo "==> installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)"; \
        rustup target add wasm32-wasip2; \
    fi

# Build every Rust plugin into target/plugins/<family>-<name>.wasm.
build-plugins: setup
    @echo "==> building plugins (wasm32-wasip2, release)"
    cd plugins && cargo build --release --workspace --exclude patchbay-sdk --quiet
    mkdir -p {{plugins_dir}}
    @for dir in plugins/*/; do \
        crate=$(basename "$dir"); \
        [ -f "$dir/Cargo.toml" ] || continue; \
        cp "target/guests/wasm32-wasip2/release/${crate//-/_}.wasm" "{{plugins_dir}}/$crate.wasm"; \
        echo "    {{plugins_dir}}/$crate.wasm ($(stat -c %s {{plugins_dir}}/$crate.wasm) bytes)"; \
    done
