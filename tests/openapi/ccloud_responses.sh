#!/usr/bin/env bash
# Run a test binary with CMEK_CCLOUD_RESPONSE_LOG pointing at a fresh file (the emulator,
# in-process or a private one started by cmek-run, appends one JSON line per Cloud API answer
# to it), then check every logged response against the OpenAPI spec with validate.py.
#
#   ccloud_responses.sh --spec SPEC --validator validate.py -- TEST_BINARY [ARGS...]
#
# Fails when the binary fails, when a response breaks the spec, and when nothing was logged
# (a check that checked nothing). The log is kept, and its path printed, when it fails.
set -u

usage() { echo "usage: $0 --spec SPEC --validator validate.py -- TEST_BINARY [ARGS...]" >&2; exit 2; }
spec="" validator=""
while [ $# -gt 0 ]; do
  case "$1" in
    --spec) [ $# -ge 2 ] || usage; spec=$2; shift 2 ;;
    --validator) [ $# -ge 2 ] || usage; validator=$2; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[ -n "$spec" ] && [ -n "$validator" ] && [ $# -ge 1 ] || usage
if [ ! -x "$1" ]; then
  echo "ccloud_responses: $1 is not an executable (not built?)" >&2
  exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/ccloud-responses.XXXXXX") || exit 1
export CMEK_CCLOUD_RESPONSE_LOG="$log"

"$@"
test_rc=$?
python3 "$validator" --spec "$spec" "$log"
check_rc=$?

if [ "$test_rc" -ne 0 ]; then
  echo "ccloud_responses: $1 failed (exit status $test_rc)"
fi
if [ "$test_rc" -ne 0 ] || [ "$check_rc" -ne 0 ]; then
  echo "ccloud_responses: the responses are kept in $log"
  exit 1
fi
rm -f "$log"
exit 0
