#!/usr/bin/env bash
# The optional ecosystem features build on their own: `macros`, `futures-io` (std) and
# `embedded-io-async` and `embedded-nal-async` (no_std: also built with build-std, which fails
# if std leaks in), `hyper` (std).
# Their tests run in the main `cargo test --workspace` (the crate's dev-dependency on itself,
# and integration/'s dependency, turn the features on for tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
for features in macros futures-io embedded-io-async embedded-nal-async hyper testing "futures-io embedded-io-async signal"; do
    echo "--- cargo build --lib --no-default-features --features '$features'"
    timeout 300 cargo build --lib --no-default-features --features "$features"
done
echo "--- embedded-io-async without std (build-std core,alloc)"
timeout 600 cargo +nightly build -Zbuild-std=core,alloc --target x86_64-unknown-linux-gnu --lib \
    --no-default-features --features embedded-io-async,embedded-nal-async --target-dir target/build-std
