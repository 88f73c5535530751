#!/usr/bin/env bash
# Benchmarks of cmek-emulator (release build): figures only; nothing here passes or fails on
# speed (the machines are shared and noisy: compare figures from the same run).
#   bench/run.sh [seconds-per-phase] [connections] [rounds]
# 0. bench_inproc: the emulator's own cost per request, dispatched in-process (no network).
# 1. bench_kms: startup time; rounds of Encrypt and Decrypt as the CockroachDB CMEK role
#    session (SigV4 + key policy per request) at 10 and 100,000 keys, each round between two
#    phases of a bare libmicrohttpd baseline and its ratios against them; wrk is the load
#    generator (installed here when missing).
# 2. bench_requests: signed STS/IAM requests through libcurl clients, and the emulator's RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test
if ! command -v wrk >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
[[ -f build-bench/build.ninja ]] || meson setup build-bench -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-bench >/dev/null
seconds="${1:-2}" connections="${2:-32}" rounds="${3:-7}"
echo "== bench_inproc (the emulator's own cost per request, no network)"
build-bench/bench/bench_inproc 50000
echo
echo "== bench_kms ($rounds rounds, $seconds s per phase, $connections connections)"
build-bench/bench/bench_kms build-bench/emulator/cmek-emulator build-bench/bench/bare_mhd \
    "$seconds" "$connections" "$rounds"
echo
echo "== bench_requests (4 libcurl clients x 5000 requests each)"
out=$(mktemp)
build-bench/emulator/cmek-emulator --listen 127.0.0.1:0 --log-level error >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do url=$(head -n1 "$out"); [[ -n "$url" ]] && break; sleep 0.05; done
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null aws --endpoint-url "$url" iam create-role \
    --role-name bench-role --assume-role-policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}' >/dev/null
for op in health gci getrole; do
    build-bench/bench/bench_requests "$url" 4 5000 "$op"
done
echo "emulator RSS after 60000 requests: $(awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status")"
