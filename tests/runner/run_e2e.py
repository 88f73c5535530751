#!/usr/bin/env python3
"""End-to-end tests of the cmek-run binary: scenario-file errors (exit 2, exact
FILE:LINE:COL messages, nothing run), runs against a private emulator (--emulator), skips on
a live target that is never contacted, and the JUnit and TAP outputs parsed back.

Each check prints "ok"/"FAIL" with its name; the script exits 1 if any failed. A sanitizer
report from cmek-run (ASan's leak check at exit included) makes its exit status non-zero and
fails the check that ran it."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ARGS = None
CHECKS = []


def run(*argv, env_extra=None):
    env = dict(os.environ)
    env.pop("CMEK_EMULATOR_URL", None)
    env.update(env_extra or {})
    cmd = [ARGS.cmek_run, "--fixtures", ARGS.fixtures, "--emulator-bin", ARGS.emulator_bin,
           "--color", "never"] + list(argv)
    p = subprocess.run(cmd, cwd=ARGS.cases, env=env, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def norm(text):
    """Durations vary from run to run."""
    text = re.sub(r"\b\d+ ms\b", "N ms", text)
    text = re.sub(r"127\.0\.0\.1:\d+ \(pid \d+", "127.0.0.1:PORT (pid PID", text)
    return re.sub(r"\(\d+ calls\)", "(N calls)", text)


def check(name):
    def wrap(fn):
        CHECKS.append((name, fn))
        return fn
    return wrap


def expect_eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}:\n--- got ---\n{got}\n--- want ---\n{want}")


# ---- scenario-file errors: exit 2, exact messages, nothing run ----

FILE_ERRORS = {
    "bad_json": ["errors/bad_json.json:4:43: invalid JSON: string or '}' expected near '}'"],
    "unknown_field": ["errors/unknown_field.json:5:7: step list: unknown field \"argz\" (name, op, "
                      "include, args, as, session, save, expect, wait, emulator_only, description, vault)"],
    "unknown_top_field": [
        "errors/unknown_top_field.json:3:3: unknown field \"step\" (name, description, vars, "
        "steps, cleanup)",
        "errors/unknown_top_field.json:1:1: missing field \"steps\""],
    "unknown_op": ["errors/unknown_op.json:4:28: step enc: unknown operation \"kms.encrpyt\" "
                   "(see the tables in client/include/cmek/*.h)"],
    "wrong_type": ["errors/wrong_type.json:5:15: step list: \"args\" must be an object, not a "
                   "string"],
    "undefined_var": [
        "errors/undefined_var.json:6:29: step get: undefined variable ${rolename} (not in vars, "
        "--var, a built-in or saved by an earlier step)",
        "errors/undefined_var.json:7:68: step later: undefined variable ${arn}: step saver saves "
        "it, but runs later"],
    "duplicate_name": ["errors/duplicate_name.json:5:15: step list: duplicate step name (first "
                       "at errors/duplicate_name.json:4:15)"],
    "session_not_assume": ["errors/session_not_assume.json:5:7: step who: \"session\" saves the "
                           "credentials of sts.assume_role, not of sts.get_caller_identity"],
    "vault_field": ["errors/vault_field.json:5:7: step kms: \"vault\" sets the Vault token and "
                    "namespace of vault.* steps, not of kms.list_keys",
                    "errors/vault_field.json:7:27: step read: \"vault.token\" must be a string or "
                    "null (no header), not a number",
                    "errors/vault_field.json:7:30: step read: unknown field \"vault.nmespace\" "
                    "(token, namespace)"],
    "bad_include": ["errors/bad_include.json:4:18: step #1: cannot include \"no-such-file.json\": "
                    "No such file or directory"],
    "include_cycle": ["errors/include_cycle.json:5:18: step #2: include cycle: "
                      "\"include_cycle.json\" is already being included (1 level up)"],
    "included_error": ["errors/inc/included_bad.json:3:79: step inner: \"expect.values\" "
                       "\"Keys\": \"$length\" wants a non-negative integer"],
}


def file_error_check(kind, lines):
    @check(f"file_error_{kind}")
    def _():
        # with a valid scenario first: still nothing runs, and no emulator is started
        rc, out, err = run("--emulator", "run/pass.json", f"errors/{kind}.json")
        n = len(lines)
        want = "\n".join(lines) + \
            f"\ncmek-run: {n} error{'s' if n > 1 else ''} in the scenario files; nothing was run\n"
        expect_eq(rc, 2, "exit status")
        expect_eq(err, want, "stderr")
        expect_eq(out, "", "stdout (no step may run)")


for kind, lines in FILE_ERRORS.items():
    file_error_check(kind, lines)


@check("file_error_undefined_var_passes_with_var")
def _():
    rc, out, err = run("--check", "--var", "rolename=x", "--var", "arn=y",
                       "errors/undefined_var.json")
    # ${arn} is defined by --var, so only the order problem is gone too
    expect_eq((rc, out, err), (0, "OK: 1 scenario, 3 steps checked\n", ""), "result")


@check("file_error_env_unset")
def _():
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=ARGS.cases, delete=False) as f:
        f.write('{"name": "env", "steps": [{"name": "a", "op": "kms.list_keys",\n'
                '  "args": {"Marker": "${env.CMEK_RUN_TEST_UNSET}${env.CMEK_RUN_TEST_UNSET2:-x}"}}]}')
        path = f.name
    try:
        rc, out, err = run("--check", os.path.basename(path))
        base = os.path.basename(path)
        expect_eq(rc, 2, "exit status")
        expect_eq(err, f"{base}:2:22: step a: environment variable CMEK_RUN_TEST_UNSET is not "
                       "set (${env.CMEK_RUN_TEST_UNSET:-default} gives a fallback)\n"
                       "cmek-run: 1 error in the scenario files; nothing was run\n", "stderr")
        rc, out, err = run("--check", os.path.basename(path),
                           env_extra={"CMEK_RUN_TEST_UNSET": "set"})
        expect_eq((rc, err), (0, ""), "with the variable set")
    finally:
        os.unlink(path)


@check("usage_errors_exit_2")
def _():
    rc, out, err = run()
    expect_eq(rc, 2, "no scenario: exit status")
    expect_eq(err.splitlines()[0], "cmek-run: no scenario files given", "no scenario: message")
    rc, out, err = run("--only", "nope", "run/pass.json")
    expect_eq((rc, err), (2, "cmek-run: --only nope: no scenario given has that name\n"), "--only")
    rc, out, err = run("--var", "1x=2", "run/pass.json")
    expect_eq(rc, 2, "--var: exit status")
    rc, out, err = run("--emulator", "--target", "live", "run/live.json")
    expect_eq((rc, err), (2, "cmek-run: --emulator needs an emulator target; live is not one\n"),
              "--emulator with live")


# ---- runs against a private emulator ----

@check("emulator_pass_save_session_error_code")
def _():
    rc, out, err = run("--emulator", "run/pass.json")
    want = """cmek-run: a private emulator at http://127.0.0.1:PORT (pid PID; its log: /dev/null)
== e2e-pass (run/pass.json) on emulator
PASS  e2e-pass / create-role  iam.create_role  N ms
PASS  e2e-pass / create-key  kms.create_key  N ms
PASS  e2e-pass / assume  sts.assume_role  N ms
PASS  e2e-pass / encrypt  kms.encrypt  N ms
PASS  e2e-pass / decrypt  kms.decrypt  N ms
PASS  e2e-pass / denied  kms.disable_key  N ms
PASS  e2e-pass / still-enabled  kms.describe_key  N ms
PASS  e2e-pass / delete-role [cleanup]  iam.delete_role  N ms
OK: 1 scenario, 8 steps: 8 passed, 0 failed, 0 skipped (N ms)
"""
    expect_eq((rc, norm(out), err), (0, want, ""), "result")


@check("emulator_failure_reason_and_cleanup_after_failure")
def _():
    rc, out, err = run("--emulator", "run/fail.json")
    want = """cmek-run: a private emulator at http://127.0.0.1:PORT (pid PID; its log: /dev/null)
== e2e-fail (run/fail.json) on emulator
PASS  e2e-fail / create-key  kms.create_key  N ms
FAIL  e2e-fail / wrong-state  kms.describe_key  N ms
      KeyMetadata.KeyState: expected "Disabled", got "Enabled"
SKIP  e2e-fail / never-runs  kms.disable_key
      after the failure of step wrong-state
PASS  e2e-fail / schedule-deletion [cleanup]  kms.schedule_key_deletion  N ms
FAILED: 1 scenario, 4 steps: 2 passed, 1 failed, 1 skipped (N ms)
"""
    expect_eq((rc, norm(out), err), (1, want, ""), "result")


@check("emulator_wait_times_out_with_the_last_mismatch")
def _():
    rc, out, err = run("--emulator", "run/wait.json")
    want = """cmek-run: a private emulator at http://127.0.0.1:PORT (pid PID; its log: /dev/null)
== e2e-wait (run/wait.json) on emulator
PASS  e2e-wait / create-key  kms.create_key  N ms
FAIL  e2e-wait / never-disabled  kms.describe_key  N ms
      timed out after N ms (N calls); the last: KeyMetadata.KeyState: expected "Disabled", got "Enabled"
FAILED: 1 scenario, 2 steps: 1 passed, 1 failed, 0 skipped (N ms)
"""
    expect_eq((rc, norm(out), err), (1, want, ""), "result")
    took = int(re.search(r"timed out after (\d+) ms", out).group(1))
    if not 300 <= took <= 600:
        raise AssertionError(f"waited {took} ms; the timeout is 600 ms")


@check("max_wait_caps_every_wait")
def _():
    rc, out, err = run("--emulator", "--max-wait", "200ms", "run/wait.json")
    expect_eq((rc, err), (1, ""), "result")
    took = int(re.search(r"timed out after (\d+) ms", out).group(1))
    if not took <= 200:
        raise AssertionError(f"waited {took} ms; --max-wait is 200 ms")
    rc, out, err = run("--emulator", "--max-wait", "soon", "run/wait.json")
    expect_eq((rc, out, err), (2, "", "cmek-run: --max-wait wants a duration such as 500ms, 10s, 5m: 'soon'\n"),
              "bad duration")


@check("emulator_reset_between_scenarios_and_no_reset")
def _():
    # reset.json leaves a role of a fixed name behind: twice in one run, it passes only
    # because the emulator is reset before each scenario
    rc, out, err = run("--emulator", "run/reset.json", "run/reset.json")
    expect_eq((rc, norm(out).splitlines()[-1], err),
              (0, "OK: 2 scenarios, 2 steps: 2 passed, 0 failed, 0 skipped (N ms)", ""), "reset")
    rc, out, err = run("--emulator", "--no-reset", "run/reset.json", "run/reset.json")
    want = """FAIL  e2e-reset / create-role  iam.create_role  N ms
      expected success, got EntityAlreadyExists (HTTP 409): Role with name cmek-e2e-fixed already exists.
FAILED: 2 scenarios, 2 steps: 1 passed, 1 failed, 0 skipped (N ms)"""
    expect_eq((rc, "\n".join(norm(out).splitlines()[-3:]), err), (1, want, ""), "--no-reset")


@check("docs_example_runs")
def _():
    with open(ARGS.docs, encoding="utf-8") as f:
        doc = f.read()
    example = re.search(r"```json\n(\{.*?)```", doc, re.S).group(1)
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=ARGS.cases, delete=False) as f:
        f.write(example)
        path = f.name
    try:
        rc, out, err = run("--emulator", os.path.basename(path))
        expect_eq((rc, norm(out).splitlines()[-1], err),
                  (0, "OK: 1 scenario, 7 steps: 7 passed, 0 failed, 0 skipped (N ms)", ""),
                  "the example of docs/scenarios.md")
    finally:
        os.unlink(path)


# ---- live target: emulator-only steps skipped with reasons, nothing contacted ----

LIVE_SKIPS = [
    ("advance-clock", "emulator only: emulator.set_clock exists only on cmek-emulator"),
    ("as-cloud", "emulator only: acts as cockroach_cloud, CockroachDB Cloud's own principal, "
                 "which only the emulator lends"),
    ("drill", "emulator only: a drill that breaks the key"),
    ("marked", "emulator only: marked emulator_only"),
    ("assume", "emulator only: acts as cockroach_cloud, CockroachDB Cloud's own principal, "
               "which only the emulator lends"),
    ("uses-session", "acts as session cmek from step assume, which was skipped"),
    ("uses-value", "needs ${cloud_arn} from step as-cloud, which was skipped"),
    ("uses-clock", "needs ${now} from step advance-clock, which was skipped"),
]

# Endpoints that would refuse at once, should anything be sent after all.
NOWHERE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "COCKROACH_SERVER": "http://127.0.0.1:9",
           "VAULT_ADDR": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "AKIDNOTUSED",
           "AWS_SECRET_ACCESS_KEY": "notused", "AWS_REGION": "us-east-1"}


@check("live_skips_emulator_only_steps_with_reasons")
def _():
    rc, out, err = run("--target", "live", "run/live.json", env_extra=NOWHERE)
    lines = ["== e2e-live-skips (run/live.json) on live"]
    for name, reason in LIVE_SKIPS:
        op = {"advance-clock": "emulator.set_clock", "as-cloud": "sts.get_caller_identity",
              "drill": "kms.list_keys", "marked": "kms.list_aliases",
              "assume": "sts.assume_role", "uses-session": "kms.list_keys",
              "uses-value": "iam.get_role", "uses-clock": "kms.list_keys"}[name]
        tag = " [cleanup]" if name == "uses-clock" else ""
        lines.append(f"SKIP  e2e-live-skips / {name}{tag}  {op}")
        lines.append(f"      {reason}")
    lines.append("OK: 1 scenario, 8 steps: 0 passed, 0 failed, 8 skipped (N ms)")
    expect_eq((rc, norm(out), err), (0, "\n".join(lines) + "\n", ""), "result")


@check("tap_output")
def _():
    rc, out, err = run("--target", "live", "--tap", "run/live.json", env_extra=NOWHERE)
    lines = ["TAP version 13", "# e2e-live-skips (run/live.json)"]
    for i, (name, reason) in enumerate(LIVE_SKIPS, 1):
        tag = " [cleanup]" if name == "uses-clock" else ""
        lines.append(f"ok {i} - e2e-live-skips / {name}{tag} # SKIP {reason}")
    lines += ["1..8", "# 0 passed, 0 failed, 8 skipped"]
    expect_eq((rc, out, err), (0, "\n".join(lines) + "\n", ""), "TAP")
    rc, out, err = run("--emulator", "--tap", "run/fail.json")
    want = """TAP version 13
# e2e-fail (run/fail.json)
ok 1 - e2e-fail / create-key
not ok 2 - e2e-fail / wrong-state
  ---
  message: "KeyMetadata.KeyState: expected \\"Disabled\\", got \\"Enabled\\""
  op: kms.describe_key
  duration_ms: N
  ...
ok 3 - e2e-fail / never-runs # SKIP after the failure of step wrong-state
ok 4 - e2e-fail / schedule-deletion [cleanup]
1..4
# 2 passed, 1 failed, 1 skipped
"""
    expect_eq((rc, re.sub(r"duration_ms: \d+", "duration_ms: N", out), err), (1, want, ""),
              "TAP with a failure")


@check("junit_parsed_back")
def _():
    with tempfile.TemporaryDirectory() as d:
        junit = os.path.join(d, "out.xml")
        rc, out, err = run("--emulator", "--junit", junit, "run/pass.json", "run/fail.json")
        expect_eq((rc, err), (1, ""), "exit status and stderr")
        root = ET.parse(junit).getroot()
    expect_eq(root.tag, "testsuites", "root")
    expect_eq({k: root.get(k) for k in ("name", "tests", "failures", "errors", "skipped")},
              {"name": "cmek-run", "tests": "12", "failures": "1", "errors": "0", "skipped": "1"},
              "testsuites counts")
    suites = root.findall("testsuite")
    expect_eq([(s.get("name"), s.get("tests"), s.get("failures"), s.get("skipped"), s.get("file"))
               for s in suites],
              [("e2e-pass", "8", "0", "0", "run/pass.json"),
               ("e2e-fail", "4", "1", "1", "run/fail.json")], "testsuites")
    expect_eq(suites[0].find("properties/property").attrib, {"name": "target", "value": "emulator"},
              "target property")
    cases = suites[1].findall("testcase")
    expect_eq([(c.get("name"), c.get("classname")) for c in cases],
              [("create-key", "e2e-fail"), ("wrong-state", "e2e-fail"),
               ("never-runs", "e2e-fail"), ("schedule-deletion", "e2e-fail.cleanup")], "testcases")
    for c in cases + suites[0].findall("testcase"):
        if not re.fullmatch(r"\d+\.\d{3}", c.get("time")):
            raise AssertionError(f"time {c.get('time')!r}")
    failure = cases[1].find("failure")
    expect_eq((failure.get("message"), failure.get("type"), failure.text),
              ('KeyMetadata.KeyState: expected "Disabled", got "Enabled"', "kms.describe_key",
               'KeyMetadata.KeyState: expected "Disabled", got "Enabled"'), "failure")
    expect_eq(cases[2].find("skipped").get("message"), "after the failure of step wrong-state",
              "skipped")
    expect_eq([len(c) for c in cases], [0, 1, 1, 0], "children of each testcase")
    expect_eq(cases[1].get("line"), "8", "line of the failed step")


@check("junit_live_skips_and_escaping")
def _():
    with tempfile.TemporaryDirectory() as d:
        junit = os.path.join(d, "out.xml")
        rc, out, err = run("--target", "live", "--junit", junit, "run/live.json",
                           env_extra=NOWHERE)
        expect_eq((rc, err), (0, ""), "exit status")
        root = ET.parse(junit).getroot()
    expect_eq((root.get("tests"), root.get("failures"), root.get("skipped")), ("8", "0", "8"),
              "counts")
    got = [(c.get("name"), c.find("skipped").get("message"))
           for c in root.iter("testcase")]
    expect_eq(got, LIVE_SKIPS, "skipped messages (quotes and ${} survive escaping)")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmek-run", required=True)
    ap.add_argument("--emulator-bin", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--docs", required=True, help="docs/scenarios.md, whose example is run")
    ARGS = ap.parse_args()
    ARGS.cmek_run = os.path.abspath(ARGS.cmek_run)
    ARGS.fixtures = os.path.abspath(ARGS.fixtures)
    ARGS.emulator_bin = os.path.abspath(ARGS.emulator_bin)
    failed = 0
    for name, fn in CHECKS:
        try:
            fn()
            print(f"ok   {name}", flush=True)
        except Exception as e:  # an unexpected error fails its check, not the others
            failed += 1
            print(f"FAIL {name}\n{e}", flush=True)
    print(f"{len(CHECKS) - failed} of {len(CHECKS)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
