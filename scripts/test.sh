#!/usr/bin/env bash
# The whole test suite, under AddressSanitizer and UndefinedBehaviorSanitizer (a leak fails
# the run): unit tests, in-process service tests, the HTTP server tests, and the
# conformance tests that drive the real AWS CLI and curl against a running emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
build="${CMEK_TEST_BUILD_DIR:-build-asan}"
if [[ ! -f "$build/build.ninja" ]]; then
    meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
fi
ninja -C "$build"
status=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?
python3 scripts/test_summary.py "$build/meson-logs/testlog.json"
exit "$status"
