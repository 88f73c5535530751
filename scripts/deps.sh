#!/usr/bin/env bash
# Installs the Debian packages cmek-harness needs, only those missing.
#   scripts/deps.sh build   what building and running the emulator needs
#   scripts/deps.sh test    that, plus what the test suite needs
set -euo pipefail
kind="${1:-build}"
pkgs=(gcc libc6-dev pkg-config meson ninja-build python3 libmicrohttpd-dev libjansson-dev
      libcurl4-openssl-dev libssl-dev curl ca-certificates)
if [[ "$kind" == test ]]; then
    pkgs+=(libcriterion-dev faketime)
    # The conformance tests drive the real AWS CLI; Debian's is the fallback when none is
    # installed (a pip-installed aws on PATH is used as it is).
    command -v aws >/dev/null 2>&1 || pkgs+=(awscli)
    python3 -c 'import boto3, cryptography' 2>/dev/null ||
        /usr/bin/python3 -c 'import boto3, cryptography' 2>/dev/null ||
        pkgs+=(python3-boto3 python3-cryptography)
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "deps: installing ${missing[*]}" >&2
    if [[ $(id -u) -ne 0 ]]; then
        echo "deps: not root; install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
