#!/usr/bin/env python3
"""Check CockroachDB Cloud API responses against its OpenAPI 3.0 spec (python3 stdlib only).

    validate.py --spec fixtures/ccloud-openapi.json LOG.jsonl [LOG.jsonl ...]

Each line of a log is one response: {"method": "GET", "path": "/api/v1/clusters/ID/cmek?x=1",
"status": 200, "body": <the response body as JSON>}. Prints one line per invalid response,
then "openapi: N responses valid, M invalid". Exit status 0 when every response is valid,
1 when one is not or when there was nothing to check (a missing or empty log: a check that
checked nothing fails), 2 for usage errors or a spec that cannot be read.

A response to a request the spec has no operation for is invalid when it succeeds (the
emulator must not invent endpoints); an error answer to it (the gateway's 404 NOT_FOUND, or
501 UNIMPLEMENTED for a method) is checked as a Status like any other error.

The operation is found as grpc-gateway routes: among the path templates that have the method,
the one matching the path with the most literal segments first (/api/v1/clusters/available-regions
before /api/v1/clusters/{cluster_id}). Its response for the status (else "default") gives the
schema. The spec gives 400, 401, 403, 404 and 500 an empty schema; every error status (>= 400)
is also checked against components/schemas/Status, with "code" and "message" required and
"code" a gRPC code that grpc-gateway answers with that HTTP status (5 NOT_FOUND -> 404).

Schema rules, as the wire (protojson via grpc-gateway) carries them:
- type object/array/string/integer/number/boolean, enum, required, properties, items,
  additionalProperties (maps: labels, region_nodes; Any's free members), nullable, allOf,
  anyOf, oneOf, $ref (local "#/..." references);
- a google.protobuf.Any (an object schema with an "@type" property: Status.details) must carry
  "@type", a type URL with a "/", as protojson always writes it;
- a member not in "properties" is an error unless additionalProperties allows it: the
  emulator must not invent fields. A name listed in "required" but missing from "properties"
  (a bug of the spec: Cluster.is_customer_cloud_account) is accepted with any value;
- format int64/uint64 (type string in this spec): a JSON string of decimal digits in range,
  never a number; int32/uint32: a JSON integer in range; date-time: RFC 3339; uuid: 8-4-4-4-12 hex;
- null is accepted where the schema says nullable, and for an optional member whose schema is a
  message (an object with properties, or a google.protobuf.Timestamp, i.e. a date-time), which
  grpc-gateway's EmitUnpopulated writes as null when unset (the docs show "deleted_at": null).
  Scalars, enums, arrays and maps are never null on the wire; a required member never is.
"""

import argparse
import datetime
import json
import re
import sys

# grpc-gateway's runtime.HTTPStatusFromCode.
GRPC_CODES = {
    0: ("OK", 200),
    1: ("CANCELLED", 499),
    2: ("UNKNOWN", 500),
    3: ("INVALID_ARGUMENT", 400),
    4: ("DEADLINE_EXCEEDED", 504),
    5: ("NOT_FOUND", 404),
    6: ("ALREADY_EXISTS", 409),
    7: ("PERMISSION_DENIED", 403),
    8: ("RESOURCE_EXHAUSTED", 429),
    9: ("FAILED_PRECONDITION", 400),
    10: ("ABORTED", 409),
    11: ("OUT_OF_RANGE", 400),
    12: ("UNIMPLEMENTED", 501),
    13: ("INTERNAL", 500),
    14: ("UNAVAILABLE", 503),
    15: ("DATA_LOSS", 500),
    16: ("UNAUTHENTICATED", 401),
}

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
MAX_ERRORS = 20  # per response: the first ones say enough

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIGITS = re.compile(r"^-?(0|[1-9][0-9]*)$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$")


class SpecError(Exception):
    """The spec itself cannot be used (unreadable, or a $ref that resolves to nothing)."""


def is_rfc3339(text):
    m = _RFC3339.match(text)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    # RFC 3339 allows a leap second (60).
    if hour > 23 or minute > 59 or second > 60:
        return False
    if m.group(9) and (int(m.group(10)) > 23 or int(m.group(11)) > 59):
        return False
    return True


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def show(value):
    """The value for a message: its type, and for scalars the value itself (shortened)."""
    t = json_type(value)
    if t in ("array", "object"):
        return t
    text = repr(value) if isinstance(value, str) else json.dumps(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return t + " " + text if t != "null" else "null"


def member(where, name):
    return where + "." + name if _IDENT.match(name) else where + "[" + repr(name) + "]"


class OpenAPI:
    """A loaded spec: find operations, pick response schemas, validate bodies."""

    def __init__(self, doc):
        if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
            raise SpecError("not an OpenAPI document: no 'paths' object")
        self.doc = doc
        self.routes = []  # (template, [segment regex or None for a literal], [segments], ops)
        for template, ops in doc["paths"].items():
            segs = template.strip("/").split("/")
            pats = []
            for seg in segs:
                if "{" in seg:
                    rx = "".join("[^/]+" if part.startswith("{") else re.escape(part)
                                 for part in re.split(r"(\{[^}]*\})", seg) if part)
                    pats.append(re.compile("^" + rx + "$"))
                else:
                    pats.append(None)
            self.routes.append((template, pats, segs, ops))
        status = doc.get("components", {}).get("schemas", {}).get("Status")
        self.status_schema = {"$ref": "#/components/schemas/Status"} if status else None

    @classmethod
    def load(cls, path):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise SpecError("%s: %s" % (path, e)) from None
        return cls(doc)

    # ---- operations

    def _matches(self, path):
        """The templates matching a path, each with its key: literal segments first."""
        segs = path[1:].split("/") if path.startswith("/") else None
        found = []
        if not segs or "" in segs:
            return found
        for template, pats, tsegs, ops in self.routes:
            if len(tsegs) != len(segs):
                continue
            key = []
            for seg, tseg, pat in zip(segs, tsegs, pats):
                if pat is None:
                    if seg != tseg:
                        break
                    key.append(0)
                else:
                    if not pat.match(seg):
                        break
                    key.append(1)
            else:
                found.append((tuple(key), template, ops))
        return found

    def find_operation(self, method, path):
        """(template, operation object) for a request; LookupError saying why not."""
        path = path.split("#", 1)[0].split("?", 1)[0]
        m = method.lower()
        found = self._matches(path)
        if not found:
            raise LookupError("no path in the spec matches %s" % path)
        with_method = sorted((key, t, ops) for key, t, ops in found if isinstance(ops.get(m), dict))
        if not with_method:
            best = min(found)[1]
            has = sorted(k.upper() for k in self.doc["paths"][best] if k in METHODS)
            raise LookupError("the spec has no %s for %s (it has %s)" %
                              (method.upper(), best, ", ".join(has)))
        _, template, ops = with_method[0]
        return template, ops[m]

    def response_schema(self, operation, status):
        """(the key used: "200", "4XX" or "default", the schema or None for no body)."""
        responses = operation.get("responses", {})
        for key in (str(status), "%dXX" % (status // 100), "%dxx" % (status // 100), "default"):
            if key in responses:
                resp = self.resolve(responses[key])[0]
                content = resp.get("content") or {}
                media = content.get("application/json") or next(iter(content.values()), None)
                return key, (media or {}).get("schema")
        return None, None

    # ---- schemas

    def resolve(self, schema):
        """Follow $ref: (schema, the name of the last component referred to, or None)."""
        name = None
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise SpecError("unsupported $ref %r" % (ref,))
            node = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, dict) or part not in node:
                    raise SpecError("$ref %s resolves to nothing" % ref)
                node = node[part]
            name = ref.rsplit("/", 1)[1]
            schema = node
            seen += 1
            if seen > 64:
                raise SpecError("$ref loop at %s" % ref)
        return schema, name

    @staticmethod
    def _is_message(schema):
        """What protojson writes as null when unset: a message or a Timestamp."""
        if schema.get("format") == "date-time":
            return True
        if schema.get("type") != "object":
            return False
        is_map = "additionalProperties" in schema and not schema.get("properties")
        return not is_map

    def validate(self, schema, value, where="$", owner=None):
        """Every way value breaks schema, as "PATH: what" strings (empty: valid)."""
        errs = []
        self._check(schema, value, where, owner, errs)
        return errs

    def _check(self, schema, value, where, owner, errs, optional_member=False):
        schema, name = self.resolve(schema)
        owner = name or owner
        if not isinstance(schema, dict):
            raise SpecError("schema at %s is not an object" % where)
        if value is None:
            if schema.get("nullable") or (optional_member and self._is_message(schema)):
                return
            if schema.get("type") or schema.get("enum") or schema.get("properties"):
                errs.append("%s: expected %s, got null" % (where, self._describe(schema)))
                return
        for sub in schema.get("allOf", []):
            self._check(sub, value, where, owner, errs)
        for kw in ("anyOf", "oneOf"):
            if kw in schema:
                results = [self.validate(sub, value, where, owner) for sub in schema[kw]]
                ok = sum(1 for r in results if not r)
                if ok == 0:
                    first = next((r[0] for r in results if r), "")
                    errs.append("%s: matches none of the %d %s schemas (the first says: %s)" %
                                (where, len(results), kw, first))
                elif kw == "oneOf" and ok > 1:
                    errs.append("%s: matches %d of the oneOf schemas, not exactly one" % (where, ok))
        t = schema.get("type")
        fmt = schema.get("format")
        if t == "string" and fmt in ("int64", "uint64"):
            self._check_int_string(fmt, value, where, errs)
        elif t == "string":
            if not isinstance(value, str):
                errs.append("%s: expected string, got %s" % (where, show(value)))
                return
            if fmt == "date-time" and not is_rfc3339(value):
                errs.append("%s: %r is not an RFC 3339 date-time" % (where, value))
            elif fmt == "uuid" and not _UUID.match(value):
                errs.append("%s: %r is not a UUID" % (where, value))
        elif t == "integer":
            if json_type(value) != "integer":
                errs.append("%s: expected integer%s, got %s" %
                            (where, " (%s)" % fmt if fmt else "", show(value)))
                return
            lo, hi = INT_RANGES.get(fmt, (None, None))
            if lo is not None and not lo <= value <= hi:
                errs.append("%s: %d is out of the %s range" % (where, value, fmt))
        elif t == "number":
            if json_type(value) not in ("integer", "number"):
                errs.append("%s: expected number, got %s" % (where, show(value)))
                return
        elif t == "boolean":
            if not isinstance(value, bool):
                errs.append("%s: expected boolean, got %s" % (where, show(value)))
                return
        elif t == "array":
            if not isinstance(value, list):
                errs.append("%s: expected array, got %s" % (where, show(value)))
                return
            items = schema.get("items", {})
            for i, item in enumerate(value):
                self._check(items, item, "%s[%d]" % (where, i), owner, errs)
        elif t == "object" or (t is None and ("properties" in schema or "required" in schema)):
            if not isinstance(value, dict):
                errs.append("%s: expected object%s, got %s" %
                            (where, " (%s)" % owner if name else "", show(value)))
                return
            self._check_object(schema, value, where, owner, errs)
        elif t is not None:
            raise SpecError("unknown type %r in the schema at %s" % (t, where))
        if "enum" in schema and value not in schema["enum"]:
            errs.append("%s: %s is not one of %r" %
                        (where, repr(value) if isinstance(value, str) else json.dumps(value),
                         schema["enum"]))

    def _check_int_string(self, fmt, value, where, errs):
        if not isinstance(value, str):
            errs.append("%s: %s is carried as a JSON string of digits (grpc-gateway), got %s" %
                        (where, fmt, show(value)))
            return
        if not _DIGITS.match(value):
            errs.append("%s: %r is not a decimal %s" % (where, value, fmt))
            return
        lo, hi = INT_RANGES[fmt]
        if not lo <= int(value) <= hi:
            errs.append("%s: %s is out of the %s range" % (where, value, fmt))

    def _check_object(self, schema, value, where, owner, errs):
        props = schema.get("properties", {})
        required = schema.get("required", [])
        for req in required:
            if req not in value:
                errs.append("%s: missing required property %r%s" %
                            (where, req, " (%s)" % owner if owner else ""))
            elif value[req] is None and req in props and \
                    not self.resolve(props[req])[0].get("nullable"):
                errs.append("%s: required property is null" % member(where, req))
        if "@type" in props:
            # google.protobuf.Any: protojson always writes the type URL, which "must contain
            # at least one '/' character" (the spec's own description of it).
            type_url = value.get("@type")
            if "@type" not in value:
                errs.append("%s: missing the '@type' of a google.protobuf.Any" % where)
            elif isinstance(type_url, str) and "/" not in type_url:
                errs.append("%s: %r is not a type URL (no '/')" % (member(where, "@type"), type_url))
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            at = member(where, key)
            if key in props:
                if item is None and key in required:
                    continue  # reported above
                self._check(props[key], item, at, owner, errs, optional_member=True)
            elif key in required:
                continue  # required but undeclared (a bug of the spec): anything goes
            elif extra is None or extra is False:
                errs.append("%s: unknown property (not in %s)" % (at, owner or "the schema"))
            elif extra is True or extra == {}:
                continue
            else:
                self._check(extra, item, at, owner, errs)

    def _describe(self, schema):
        if "enum" in schema:
            return "one of %r" % schema["enum"]
        t = schema.get("type", "a value")
        if schema.get("format"):
            return "%s (%s)" % (t, schema["format"])
        return t

    # ---- responses

    def validate_response(self, method, path, status, body):
        """Every way a response breaks the spec, as strings (empty: valid)."""
        try:
            template, operation = self.find_operation(method, path)
        except LookupError as e:
            if status < 400 or self.status_schema is None:
                return [str(e)]
            # The gateway's own answer to a route it does not have (404 NOT_FOUND, 501
            # UNIMPLEMENTED for a method): still a google.rpc.Status, checked as such.
            return self.validate(self.status_schema, body) + self._check_status_code(status, body)
        key, schema = self.response_schema(operation, status)
        if key is None:
            return ["%s %s declares no response %d and no default" %
                    (method.upper(), template, status)]
        errs = []
        if schema is not None:
            errs += self.validate(schema, body)
        if status >= 400 and self.status_schema is not None:
            if self.resolve(schema or {})[1] != "Status":
                errs += [e for e in self.validate(self.status_schema, body) if e not in errs]
            errs += self._check_status_code(status, body)
        return errs

    @staticmethod
    def _check_status_code(status, body):
        """The error body the emulator always sends: {code, message, details}."""
        if not isinstance(body, dict):
            return []  # the type error is already reported
        errs = ["$: missing required property %r (an error body)" % k
                for k in ("code", "message") if k not in body]
        code = body.get("code")
        if json_type(code) == "integer":
            if code not in GRPC_CODES or code == 0:
                errs.append("$.code: %d is not a gRPC error code" % code)
            elif GRPC_CODES[code][1] != status:
                errs.append("$.code: gRPC code %d (%s) is answered with HTTP %d, not %d" %
                            (code, GRPC_CODES[code][0], GRPC_CODES[code][1], status))
        return errs


def check_log(spec, path, out):
    """(valid, invalid) for one log file; invalid responses are printed to out."""
    valid = invalid = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = "%s:%d" % (path, lineno)
            try:
                entry = json.loads(line)
            except ValueError as e:
                print("%s: not a JSON line: %s" % (where, e), file=out)
                invalid += 1
                continue
            problem = None
            if not isinstance(entry, dict):
                problem = "not a JSON object"
            elif not isinstance(entry.get("method"), str) or not isinstance(entry.get("path"), str):
                problem = "needs \"method\" and \"path\" strings"
            elif json_type(entry.get("status")) != "integer":
                problem = "needs an integer \"status\""
            elif "body" not in entry:
                problem = "has no \"body\""
            if problem:
                print("%s: the log line %s" % (where, problem), file=out)
                invalid += 1
                continue
            errs = spec.validate_response(entry["method"], entry["path"], entry["status"],
                                          entry["body"])
            if errs:
                more = len(errs) - MAX_ERRORS
                text = "; ".join(errs[:MAX_ERRORS]) + ("; and %d more" % more if more > 0 else "")
                print("%s: %s %s %d: %s" % (where, entry["method"].upper(), entry["path"],
                                            entry["status"], text), file=out)
                invalid += 1
            else:
                valid += 1
    return valid, invalid


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check Cloud API responses against the OpenAPI spec.")
    ap.add_argument("--spec", required=True, help="the OpenAPI 3.0 JSON file")
    ap.add_argument("logs", nargs="+", metavar="LOG.jsonl",
                    help='one response per line: {"method","path","status","body"}')
    args = ap.parse_args(argv)
    try:
        spec = OpenAPI.load(args.spec)
    except SpecError as e:
        print("openapi: cannot use the spec: %s" % e, file=sys.stderr)
        return 2
    valid = invalid = 0
    unreadable = False
    for log in args.logs:
        try:
            v, i = check_log(spec, log, sys.stdout)
        except OSError as e:
            print("openapi: cannot read %s: %s" % (log, e.strerror or e))
            unreadable = True
            continue
        except SpecError as e:
            print("openapi: cannot use the spec: %s" % e, file=sys.stderr)
            return 2
        valid += v
        invalid += i
    print("openapi: %d responses valid, %d invalid" % (valid, invalid))
    if valid + invalid == 0:
        print("openapi: nothing was checked (no responses in %s)" % ", ".join(args.logs))
        return 1
    return 1 if invalid or unreadable else 0


if __name__ == "__main__":
    sys.exit(main())
