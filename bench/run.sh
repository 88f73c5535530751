#!/usr/bin/env bash
# Benchmarks: request throughput and latency of the emulator (release build), and its memory.
# Figures only; nothing here passes or fails on speed. Usage: bash bench/run.sh [threads] [n]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
[[ -f build-bench/build.ninja ]] || meson setup build-bench -Dbuildtype=release -Dtests=false >/dev/null
ninja -C build-bench >/dev/null
threads="${1:-4}" n="${2:-5000}"
out=$(mktemp)
build-bench/emulator/cmek-emulator --listen 127.0.0.1:0 --log-level error >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do url=$(head -n1 "$out"); [[ -n "$url" ]] && break; sleep 0.05; done
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status"; }
echo "emulator RSS at start: $(rss)"
# A role for the policy-evaluated IAM read.
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null aws --endpoint-url "$url" iam create-role \
    --role-name bench-role --assume-role-policy-document \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}' >/dev/null
for op in health gci getrole; do
    build-bench/bench/bench_requests "$url" "$threads" "$n" "$op"
done
echo "emulator RSS after $((threads * n * 3)) requests: $(rss)"
