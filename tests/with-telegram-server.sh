#!/usr/bin/env bash
# Runs a command with telegram-test-api (a Telegram Bot API emulator from
# npm) listening on loopback; its URL is in PATCHBAY_TELEGRAM_SERVER.
#   tests/with-telegram-server.sh cargo nextest run --workspace
exec bash "$(dirname "$0")/with-npm-server.sh" telegram telegram-test-api PATCHBAY_TELEGRAM_SERVER "the Telegram Bot API emulator" "$@"
