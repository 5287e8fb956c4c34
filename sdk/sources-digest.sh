#!/usr/bin/env bash
# Prints one SHA-256 over the files under the given paths (their names and
# contents; node_modules, dist, generated and __pycache__ left out): what a
# plugin build reads. `just build-plugins` skips a TypeScript or Python plugin
# whose digest matches the one recorded when its component was last built.
#   sdk/sources-digest.sh PATH...
set -euo pipefail
find "$@" -type f \
    -not -path '*/node_modules/*' -not -path '*/dist/*' -not -path '*/generated/*' -not -path '*/__pycache__/*' \
    -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
