#!/usr/bin/env bash
# Benchmarks (printed figures, never pass/fail): committed transfers per second on
# a single-validator node beside the one-core limit (signature verification +
# state apply) measured in the same run, and their ratio.
# Usage: scripts/bench.sh [TRANSFERS (<= 20000)] [BLOCK_TIME_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

cargo build --release --workspace --bins --locked
"$CARGO_TARGET_DIR/release/tamga-bench" "${1:-20000}" "${2:-100}"
