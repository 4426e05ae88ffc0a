#!/usr/bin/env bash
# A user's crate OUTSIDE the workspace (.ci/user-crate: its own [workspace] table and lockfile,
# readyloop by path) is built and run once per way a user depends on readyloop. Inside the
# workspace, features of readyloop's dev-dependencies (rustix/std among them) are unified into
# the crate and can hide a feature the crate forgets to switch on; out here nothing can.
#   default features                              -> readyloop's types and std's fds
#   default-features = false, features = ["std"]  -> the same, minimal features
#   default-features = false                      -> readyloop's own types only (no std API)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$root/target/user-crate
rm -rf "$work"
mkdir -p "$work"
run_variant() {
    local name=$1 dep=$2 features=$3
    local dir=$work/$name
    echo "--- user crate ($name): readyloop = $dep (crate features: ${features:-none})"
    mkdir -p "$dir"
    cp -r .ci/user-crate/Cargo.toml .ci/user-crate/Cargo.lock .ci/user-crate/src "$dir/"
    # The one dependency line, with the path made absolute for the copy.
    sed -i "s|^readyloop = .*|readyloop = $dep|" "$dir/Cargo.toml"
    sed -i "s|path = \"ROOT\"|path = \"$root\"|" "$dir/Cargo.toml"
    grep -q "^readyloop = .*$root" "$dir/Cargo.toml" || { echo "FAIL: dependency line not rewritten"; exit 1; }
    (
        cd "$dir"
        # The lockfile pins what the user crate resolved; new readyloop dependencies update it.
        timeout 600 cargo build --features "$features" --target-dir "$work/target"
        timeout 60 cargo run -q --features "$features" --target-dir "$work/target" | tee "$dir/out"
    )
    grep -qx "user crate: ok" "$dir/out" || { echo "FAIL: $name did not finish"; exit 1; }
    # The features a user gets must not have pulled anything foreign in.
    (cd "$dir" && cargo tree -e normal --prefix none --features "$features" | sort -u) >"$dir/tree"
    if grep -vE '^(readyloop|readyloop-user-crate|rustix|linux-raw-sys|bitflags|libc) ' "$dir/tree"; then
        echo "FAIL: $name depends on more than readyloop's own dependencies (above)"; exit 1
    fi
}
run_variant default "{ path = \"ROOT\" }" std-api
run_variant std-only "{ path = \"ROOT\", default-features = false, features = [\"std\"] }" std-api
run_variant no-default "{ path = \"ROOT\", default-features = false }" ""
rm -rf "$work"
echo "user crate: all variants built and ran"
