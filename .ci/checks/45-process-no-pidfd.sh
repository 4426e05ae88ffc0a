#!/usr/bin/env bash
# readyloop::process on a system without pidfds (Linux before 5.3, valgrind 3.19, seccomp
# filters that refuse pidfd_open): strace makes pidfd_open(2) fail with ENOSYS for real, and
# the process tests must all pass on the fallback (waitid(P_PID, WNOHANG) on a loop timer).
# Fails if the injection did not happen (the fallback would not have been tested).
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in strace jq; do
    command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done
export CARGO_TARGET_DIR=target/no-pidfd
tests=(process process_orphans process_zombies process_ticker)
args=()
for t in "${tests[@]}"; do args+=(--test "$t"); done
mapfile -t bins < <(timeout 600 cargo test --no-run "${args[@]}" --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .executable != null
                  and .profile.test == true) | .executable')
[ "${#bins[@]}" -eq "${#tests[@]}" ] || { echo "built ${#bins[@]} of ${#tests[@]} test binaries" >&2; exit 1; }
trace=$(mktemp)
trap 'rm -f "$trace"' EXIT
for exe in "${bins[@]}"; do
    echo "--- $(basename "$exe") with pidfd_open failing (ENOSYS)"
    timeout 300 strace -f -qq -o "$trace" -e trace=pidfd_open -e inject=pidfd_open:error=ENOSYS \
        "$exe" -q
    grep -q INJECTED "$trace" || { echo "pidfd_open was never called: nothing injected" >&2; exit 1; }
done
