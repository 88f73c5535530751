#!/usr/bin/env bash
# The main job: builds cmek-emulator, libcmek and cmek-run, starts the emulator, runs every
# scenario of scenarios/ against it with cmek-run (the CMEK provisioning of the docs and each
# revocation drill with its restoration; JUnit in build/scenarios-junit.xml), then the same key
# flow with the unmodified AWS CLI, prints the report and how to use the emulator, and keeps
# serving until Ctrl-C (the state is reset before each scenario and flow). Set CMEK_LISTEN
# (default 127.0.0.1:4566) to serve elsewhere; pass --exit to stop after the report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
if [[ ! -f build/build.ninja ]]; then
    meson setup build -Dbuildtype=release -Dtests=false >/dev/null
fi
ninja -C build >/dev/null
listen="${CMEK_LISTEN:-127.0.0.1:4566}"
log=$(mktemp)
coproc EMU { exec build/emulator/cmek-emulator --listen "$listen" 2>"$log"; }
emu_pid=$EMU_PID
trap 'kill "$emu_pid" 2>/dev/null || true; rm -f "$log"' EXIT
if ! read -r -t 10 url <&"${EMU[0]}"; then
    echo "cmek-emulator did not start:" >&2
    cat "$log" >&2
    exit 1
fi
echo "cmek-emulator serving at $url"
echo
echo "== Report: every scenario (scenarios/*.json), driven by cmek-run through libcmek =="
status=0
CMEK_EMULATOR_URL="$url" build/runner/cmek-run --target emulator \
    --junit build/scenarios-junit.xml scenarios/*.json || status=$?
echo
echo "== Report: the CMEK cross-account trust flow, driven by the AWS CLI =="
bash tests/conformance/awscli.sh --url "$url" || status=$?
echo
echo "== Report: the CMEK key flow and every revocation path, driven by the AWS CLI =="
bash tests/conformance/awscli_kms.sh --url "$url" || status=$?
cat <<EOM

== How to use it ==
Base URL: $url     (IAM, STS, KMS and the Cloud API share it; admin endpoints under /_emulator/)
Customer account 111122223333, administrator:
  export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
  export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
  export AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url $url sts get-caller-identity
CockroachDB Cloud's account 999988887777: AKIAI44QH8DHBEXAMPLE / je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY
Cloud API:       curl -s $url/api/v1/clusters -H 'Authorization: Bearer CCDB1_Zp3Wm9KxQ2_Tq8VnR4sL7yB2dF6hJ0kM3pX9cW5eA1gU'
Emulator clock:  curl -s -XPOST $url/_emulator/clock -d '{"advance":"2h"}'
Reset:           curl -s -XPOST $url/_emulator/reset
The whole world: build/emulator/cmek-emulator --print-world
Scenarios:       CMEK_EMULATOR_URL=$url build/runner/cmek-run scenarios/revoke-a-key-policy.json
                 (build/runner/cmek-run --emulator ... starts a private emulator instead)
EOM
if [[ "${1:-}" == --exit ]]; then
    exit "$status"
fi
echo
echo "Serving until Ctrl-C (logs: $log)."
wait "$emu_pid"
