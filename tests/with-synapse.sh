#!/usr/bin/env bash
# Runs a command with a Synapse homeserver (PyPI matrix-synapse, the
# reference Matrix server) on loopback, with two users: the bot the Matrix
# plugin logs in as, and a person who talks to it. Its URL is in
# PATCHBAY_SYNAPSE_SERVER.
#   tests/with-synapse.sh cargo nextest run --workspace
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../target/venv-synapse"
if ! "$venv/bin/python" -c "import synapse" 2>/dev/null; then
    echo "==> installing Synapse (pip install matrix-synapse into target/venv-synapse, ~240 MB)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --only-binary :all: -r "$here/synapse-requirements.txt"
fi
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
(cd "$dir" && "$venv/bin/python" -m synapse.app.homeserver --server-name localhost \
    --config-path hs.yaml --generate-config --report-stats=no >/dev/null)
"$venv/bin/python" "$here/synapse-config.py" "$dir/hs.yaml" "$port"
"$venv/bin/python" -m synapse.app.homeserver -c "$dir/hs.yaml" >"$dir/stdout.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$dir"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
    curl -fsS "$url/_matrix/client/versions" >/dev/null 2>&1 && break
    if ! kill -0 "$server" 2>/dev/null; then
        echo "Synapse did not start:" >&2
        cat "$dir/stdout.log" "$dir/synapse.log" >&2 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done
curl -fsS "$url/_matrix/client/versions" >/dev/null || { echo "Synapse did not answer within 60 s" >&2; exit 1; }
# The users of tests/integration/matrix.rs.
for user in "patchbay-bot bot-password-0123" "reader reader-password-0123"; do
    set -- $user "$@"
    "$venv/bin/register_new_matrix_user" -u "$1" -p "$2" --no-admin -c "$dir/hs.yaml" "$url" >/dev/null
    shift 2
done
export PATCHBAY_SYNAPSE_SERVER="$url"
echo "==> Synapse (matrix-synapse) at $url"
"$@"
