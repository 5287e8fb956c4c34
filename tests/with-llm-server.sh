#!/usr/bin/env bash
# Runs a command with aimock (an OpenAI- and Anthropic-shaped LLM API mock
# from npm) listening on loopback; its base URL is in PATCHBAY_LLM_SERVER.
#   tests/with-llm-server.sh cargo nextest run --workspace
exec bash "$(dirname "$0")/with-npm-server.sh" aimock @copilotkit/aimock PATCHBAY_LLM_SERVER "the LLM API mock" "$@"
