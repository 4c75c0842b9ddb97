#!/usr/bin/env bash
# Sets up what is missing, builds `tamga`, and starts a throwaway single-validator
# devnet (`tamga dev`): it prints the dev accounts, the home to export as
# TAMGA_HOME, and the JSON-RPC URL. Extra arguments go to `tamga dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

cargo build --release --workspace --bins --locked
exec "$CARGO_TARGET_DIR/release/tamga" dev "$@"
