#!/usr/bin/env python3
"""Totals the cases of every suite in a meson test log: Criterion's "Synthesis" line and the
conformance scripts' "N passed, N failed" line, cmek-run's "OK: N scenarios, N steps: N passed, N failed" line, Python unittest's "Ran N
tests" and the OpenAPI check's "openapi: N responses valid, M invalid" line. A suite that failed without either counts as
one failure. Prints one line per suite, then "tests: N passed, N failed"."""
import json
import re
import sys

CRITERION = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")
PLAIN = re.compile(r"^\w+: (\d+) passed, (\d+) failed$", re.M)
# cmek-run's summary line: one case per scenario step.
UNITTEST = re.compile(r"^Ran (\d+) tests? in [0-9.]+s\n\n(OK|FAILED \((?:failures|errors)=(\d+)(?:, (?:failures|errors)=(\d+))?\))", re.M)
OPENAPI = re.compile(r"^openapi: (\d+) responses valid, (\d+) invalid$", re.M)
CHECKS = re.compile(r"^(\d+) of (\d+) checks passed$", re.M)  # tests/runner/run_e2e.py
STEPS = re.compile(r"^(?:OK|FAILED): \d+ scenarios?, \d+ steps?: (\d+) passed, (\d+) failed", re.M)

total_pass = total_fail = 0
for line in open(sys.argv[1]):
    test = json.loads(line)
    out = (test.get("stdout") or "") + (test.get("stderr") or "")
    m = CRITERION.search(out)
    p = PLAIN.search(out) or STEPS.search(out)
    c = CHECKS.search(out)
    u = UNITTEST.search(out)
    o = OPENAPI.search(out)
    if u:
        bad = sum(int(g) for g in u.group(3, 4) if g)
        passed, failed = int(u.group(1)) - bad, bad
    elif m:
        passed, failed = int(m.group(2)), int(m.group(3)) + int(m.group(4))
    elif c:
        passed, failed = int(c.group(1)), int(c.group(2)) - int(c.group(1))
    elif p:
        passed, failed = int(p.group(1)), int(p.group(2))
    else:
        passed, failed = 0, 0
    if o:  # a suite whose Cloud API answers were also checked against the OpenAPI spec
        passed += int(o.group(1))
        failed += int(o.group(2))
    if test.get("returncode", 1) != 0 and failed == 0:
        failed = 1  # crashed, timed out, leaked at exit, or a warning made the runner fail
    total_pass += passed
    total_fail += failed
    print("  %-40s %5d passed, %d failed" % (test["name"], passed, failed))
print("tests: %d passed, %d failed" % (total_pass, total_fail))
