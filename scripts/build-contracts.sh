#!/usr/bin/env bash
# Builds the contract SDK and the example contracts to wasm32-unknown-unknown and
# copies the modules to $CARGO_TARGET_DIR/contracts/NAME.wasm, where the tests and
# `tamga contract deploy` examples find them. Prints each module's path and size.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

out="$CARGO_TARGET_DIR/contracts"
mkdir -p "$out"
cargo build --manifest-path contracts/Cargo.toml --release --locked \
  --target wasm32-unknown-unknown --target-dir "$CARGO_TARGET_DIR/wasm"
for example in contracts/examples/*/; do
  name="$(basename "$example")"
  cp "$CARGO_TARGET_DIR/wasm/wasm32-unknown-unknown/release/${name//-/_}.wasm" "$out/$name.wasm"
  echo "$out/$name.wasm $(stat -c %s "$out/$name.wasm") bytes"
done
