#!/usr/bin/env bash
# Installs what building and using Tamga needs on a fresh Debian machine, and only
# what is missing: libclang-dev (RocksDB's bindgen), a C++ compiler (RocksDB), jq
# and curl (the README walkthrough). The Rust toolchain, its components and the
# wasm32 target come from rust-toolchain.toml through rustup.
# Source it (`. scripts/setup.sh`) to also get CARGO_TARGET_DIR exported.
set -euo pipefail

tamga_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
missing=()
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# Installs the Debian packages named (a script that needs more than the build
# calls it after sourcing this file, e.g. `tamga_install python3`).
tamga_install() {
  (($#)) || return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing $*" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
tamga_install "${missing[@]}"

if ! command -v rustup >/dev/null 2>&1; then
  echo "setup: rustup is required (https://rustup.rs); it installs the pinned toolchain" >&2
  exit 1
fi
# Installs the toolchain pinned in rust-toolchain.toml with its components and targets.
(cd "$tamga_root" && rustup toolchain install >/dev/null 2>&1 || true)
(cd "$tamga_root" && rustup target add wasm32-unknown-unknown >/dev/null && rustup component add rustfmt clippy >/dev/null)

# One persistent target dir outside the work tree, shared by every build and by CI.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tamga/target}"
mkdir -p "$CARGO_TARGET_DIR"
