#!/usr/bin/env bash
# Docs and packaging: rustdoc warnings are errors; every public item has an example that
# compiles (listed from rustdoc's JSON by doc_examples.py; the examples themselves run in
# `cargo test`'s doctests); the attribute crate's doctests and lints pass; both crates package
# and the packaged sources build (`cargo package` verifies them).
set -euo pipefail
cd "$(dirname "$0")/../.."
step() { echo "--- $*"; }

step "cargo doc, warnings denied"
RUSTDOCFLAGS="-D warnings" timeout 300 cargo doc --no-deps --all-features -p readyloop -p readyloop-macros

step "readyloop-macros: doctests and clippy"
timeout 300 cargo test --doc -p readyloop-macros
timeout 300 cargo clippy -p readyloop-macros --all-targets -- -D warnings

step "every public item has an example"
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
timeout 300 cargo +nightly rustdoc --lib --all-features -p readyloop --target-dir target/doc-json \
    -- -Z unstable-options --output-format json
python3 .ci/checks/doc_examples.py target/doc-json/doc/readyloop.json

step "cargo package (with verification)"
timeout 300 cargo package --allow-dirty -p readyloop -p readyloop-macros --target-dir target/package-check
