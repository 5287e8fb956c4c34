#!/usr/bin/env bash
# Runs a command with the OAuth2 test server (oauth2-mock-server, from npm)
# listening on loopback; its URL is in PATCHBAY_OAUTH_SERVER.
#   tests/with-oauth-server.sh cargo nextest run --workspace
exec bash "$(dirname "$0")/with-npm-server.sh" oauth oauth2-mock-server PATCHBAY_OAUTH_SERVER "the OAuth2 test server" "$@"
