#!/usr/bin/env bash
# The reading path of docs/TOUR.md holds: every file and function it names exists, each
# stated line count is within 10 of `wc -l`, at most 8 files and 1,500 lines in all
# (issue 20 point 2). Needs only python3 (no cargo, no network).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v python3 >/dev/null || (apt-get update && apt-get install -y python3)
timeout 60 python3 .ci/checks/tour.py
