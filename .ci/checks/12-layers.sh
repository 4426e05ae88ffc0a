#!/usr/bin/env bash
# The import graph of src/ has no upward import across the layers of README's "How a turn
# goes" (sys <- task <- reactor/timers <- executor <- leaves/net <- combinators/sync) and no
# cycle between files; prints the graph summary. Needs only python3 (no cargo, no network).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || (apt-get update && apt-get install -y python3)
timeout 60 python3 .ci/checks/layers.py
