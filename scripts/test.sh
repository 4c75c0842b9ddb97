#!/usr/bin/env bash
# Sets up what is missing, then runs the whole test suite: formatting, clippy
# (warnings are errors) for the node and the example contracts, and every unit and
# integration test. Integration tests start real `tamga` processes on loopback:
# single nodes on ports the OS picks, 4-validator clusters on a port range the
# harness checks is free; every process is killed when its test ends.
# Everything builds once, in the release profile, into $CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

cargo fmt --all -- --check
cargo fmt --manifest-path contracts/Cargo.toml --all -- --check
cargo clippy --release --workspace --all-targets --locked -- -D warnings
cargo clippy --release -p tamga-node --features test-faults --all-targets --locked -- -D warnings
# Example contracts (wasm32, their own workspace): linted, then built for the tests.
cargo clippy --manifest-path contracts/Cargo.toml --release --locked \
  --target wasm32-unknown-unknown --target-dir "$CARGO_TARGET_DIR/wasm" -- -D warnings
bash scripts/build-contracts.sh
# The fault tests run a second binary, `tamga-test` (feature `test-faults`: fault
# switches, a vote log, Malachite's Byzantine proxy). It is built first and
# copied aside; the release `tamga`, built last with everything else, has none of
# it (and refuses a `[test_faults]` config section).
cargo build --release -p tamga-node --features test-faults --bin tamga --locked
cp "$CARGO_TARGET_DIR/release/tamga" "$CARGO_TARGET_DIR/release/tamga-test"
cargo build --release --workspace --all-targets --locked
if cmp -s "$CARGO_TARGET_DIR/release/tamga" "$CARGO_TARGET_DIR/release/tamga-test"; then
  echo "test.sh: the release tamga is the test build; refusing to test it" >&2
  exit 1
fi
cargo test --release --workspace --locked --no-fail-fast "$@"
