#!/usr/bin/env bash
# The declared MSRV (`rust-version` in Cargo.toml) really builds the library: install that
# toolchain and build the lib with every feature and with none, from the committed
# Cargo.lock (`--locked`: the lockfile must resolve on the old cargo unchanged). Only the
# lib: dev-dependencies (tokio, futures, proptest) may need a newer compiler. Then the same
# from a fresh resolution, as a downstream user on that toolchain would get.
# Why 1.83: `Waker::data`/`Waker::vtable` (task/raw/waker.rs, task/raw/local_copy.rs) are stable since 1.83; 1.82 fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
msrv=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml | head -n 1)
[ -n "$msrv" ] || { echo "no rust-version in Cargo.toml" >&2; exit 1; }
macros_msrv=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' readyloop-macros/Cargo.toml)
[ "$macros_msrv" = "$msrv" ] || {
    echo "readyloop-macros declares rust-version $macros_msrv, readyloop $msrv" >&2
    exit 1
}
echo "MSRV $msrv"
# Every feature but `hyper`: hyper 1.x depends on tokio, whose MSRV (1.85) is above ours, so
# the `hyper` feature needs Rust 1.85 (said in the README); everything else builds on $msrv.
features=$(sed -n '/^\[features\]/,/^\[/p' Cargo.toml | sed -n 's/^\([a-z-]*\) *=.*/\1/p' \
    | grep -vx -e default -e hyper | tr '\n' ' ')
timeout 300 rustup toolchain install "$msrv" --profile minimal >/dev/null
export CARGO_TARGET_DIR=target/msrv
timeout 300 cargo +"$msrv" build --locked --lib -p readyloop --features "$features"
timeout 300 cargo +"$msrv" build --locked --lib -p readyloop --no-default-features
timeout 300 cargo +"$msrv" build --locked --lib -p readyloop --no-default-features --features signal
timeout 300 cargo +"$msrv" build --locked -p readyloop-macros

# A user on the MSRV toolchain does not get our Cargo.lock: their cargo resolves every
# dependency to its newest version. Do the same from a copy without the lockfile.
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
git archive HEAD | tar -x -C "$fresh"
rm -f "$fresh/Cargo.lock"
(
    cd "$fresh"
    timeout 300 cargo +"$msrv" generate-lockfile
    timeout 300 cargo +"$msrv" build --locked --lib -p readyloop --features "$features"
)
echo "readyloop builds with rustc $msrv, from the committed Cargo.lock and from a fresh resolution"
