# lib.sh: what the conformance scripts share. Source it, then call conf_start "$@".
#   conf_start --emulator PATH | --url URL
#       starts a private emulator on a free port (or uses a running one), resets its state,
#       and sets $url and $work; the AWS CLI is isolated from the user's configuration.
#   ok / fail / expect_ok / expect_error   record results
#   conf_finish NAME   checks a private emulator stops cleanly on SIGTERM, prints
#       "NAME: N passed, N failed" and returns non-zero on any failure.
# shellcheck shell=bash

url="" emulator="" emu_pid="" work="" passed=0 failed=0

conf_cleanup() {
    if [[ -n "$emu_pid" ]]; then
        kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
    fi
    [[ -n "$work" ]] && rm -rf "$work"
}

conf_start() {
    while (($#)); do
        case "$1" in
        --url) url="$2"; shift 2 ;;
        --emulator) emulator="$2"; shift 2 ;;
        *) echo "usage: $0 --emulator PATH | --url URL" >&2; exit 2 ;;
        esac
    done
    work=$(mktemp -d)
    trap conf_cleanup EXIT
    if [[ -n "$emulator" ]]; then
        "$emulator" --listen 127.0.0.1:0 >"$work/emu.out" 2>"$work/emu.err" &
        emu_pid=$!
        for _ in $(seq 1 100); do
            url=$(head -n1 "$work/emu.out" 2>/dev/null || true)
            [[ -n "$url" ]] && break
            sleep 0.05
        done
    fi
    [[ -n "$url" ]] || { echo "no emulator URL" >&2; exit 2; }
    curl -sf -XPOST "$url/_emulator/reset" >/dev/null || { echo "emulator at $url not answering" >&2; exit 2; }
    # An isolated AWS CLI: no user configuration, one attempt, no pager.
    export AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
    export AWS_DEFAULT_REGION=us-east-1 AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER=""
    export AWS_EC2_METADATA_DISABLED=true
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
}

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; [[ -n "${2:-}" ]] && sed 's/^/    /' <<<"$2"; }

expect_ok() { # DESCRIPTION command...
    local what="$1"; shift
    local out
    if out=$("$@" 2>&1); then ok "$what"; else fail "$what" "$out"; fi
}

expect_error() { # DESCRIPTION CODE TEXT-FRAGMENT -- command...
    local what="$1" code="$2" frag="$3"; shift 4
    local out
    if out=$("$@" 2>&1); then
        fail "$what: succeeded, expected $code" "$out"
    elif grep -q "($code)" <<<"$out" && grep -qF -- "$frag" <<<"$out"; then
        ok "$what: $code"
    else
        fail "$what: expected $code with \"$frag\"" "$out"
    fi
}

conf_finish() { # NAME
    if [[ -n "$emu_pid" ]]; then
        kill -TERM "$emu_pid"
        if wait "$emu_pid"; then
            ok "the emulator exits 0 on SIGTERM"
        else
            fail "the emulator exits 0 on SIGTERM (status $?)" "$(tail -n 40 "$work/emu.err")"
        fi
        emu_pid=""
    fi
    echo "$1: $passed passed, $failed failed"
    ((failed == 0))
}
