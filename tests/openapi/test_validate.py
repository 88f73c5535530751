#!/usr/bin/env python3
"""Unit tests of validate.py against the real spec (fixtures/ccloud-openapi.json).

    python3 tests/openapi/test_validate.py [--spec FILE]   (default: the source tree's fixture)
"""

import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import validate  # noqa: E402

SPEC_PATH = os.path.join(HERE, "..", "..", "fixtures", "ccloud-openapi.json")
if "--spec" in sys.argv:
    i = sys.argv.index("--spec")
    SPEC_PATH = sys.argv[i + 1]
    del sys.argv[i:i + 2]
SPEC = validate.OpenAPI.load(SPEC_PATH)

CLUSTER_ID = "3c5e2a1b-7d9f-4e6a-8b2c-1f0d9e8c7b6a"
CMEK = "/api/v1/clusters/%s/cmek" % CLUSTER_ID
ENUM_CMEK_STATUS = ("['DISABLED', 'DISABLING', 'DISABLE_FAILED', 'ENABLED', 'ENABLING', "
                    "'ENABLE_FAILED', 'ROTATING', 'ROTATE_FAILED', 'REVOKED', 'REVOKING', "
                    "'REVOKE_FAILED']")

# ccloud.md section 2.2, built from the schema.
CMEK_INFO = {
    "status": "ENABLED",
    "region_infos": [{
        "region": "us-east-1",
        "status": "ENABLED",
        "key_infos": [{
            "spec": {"type": "AWS_KMS", "uri": "arn:aws:kms:us-east-1:111122223333:key/abcd",
                     "auth_principal": "arn:aws:iam::111122223333:role/crdb-cmek"},
            "status": "ENABLED",
            "user_message": "",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:05:00Z",
        }],
    }],
}

ORGANIZATION = {
    "id": "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61",
    "name": "cmek-drill-org",
    "label": "cmek-drill-org",
    "created_at": "2026-01-01T00:00:00Z",
    "cockroach_cloud_service_principals": {
        "aws": {"user_arn": "arn:aws:iam::999988887777:user/cockroach-cloud-cmek"}},
}

# Every required field of Cluster (is_customer_cloud_account: required, undeclared) and more.
CLUSTER = {
    "id": CLUSTER_ID,
    "name": "cmek-drill",
    "cockroach_version": "v25.2.4",
    "upgrade_status": "FINALIZED",
    "plan": "ADVANCED",
    "cloud_provider": "AWS",
    "account_id": "999988887777",
    "state": "CREATED",
    "creator_id": "7cde0cd9-0d8a-4008-8f90-45092ce8afc1",
    "operation_status": "UNSPECIFIED",
    "config": {"dedicated": {"machine_type": "m6i.xlarge", "num_virtual_cpus": 4,
                             "storage_gib": 150, "memory_gib": 16.0, "disk_iops": 3000}},
    "regions": [{"name": "us-east-1", "sql_dns": "cmek-drill.aws-us-east-1.crdb.io",
                 "ui_dns": "admin-cmek-drill.aws-us-east-1.crdb.io", "node_count": 3,
                 "internal_dns": "internal-cmek-drill.aws-us-east-1.crdb.io",
                 "private_endpoint_dns": ""}],
    "cidr_range": "",
    "labels": {"env": "drill", "cost-center": "12345"},
    "is_customer_cloud_account": False,
    "network_visibility": "PRIVATE",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00.123456Z",
    "deleted_at": None,
}

STATUS_404 = {"code": 5, "message": "cluster '%s' not found" % CLUSTER_ID, "details": []}


def check(method, path, status, body):
    return SPEC.validate_response(method, path, status, body)


class Operations(unittest.TestCase):
    def test_literal_segment_wins_over_parameter(self):
        t, op = SPEC.find_operation("GET", "/api/v1/clusters/available-regions")
        self.assertEqual((t, op["operationId"]),
                         ("/api/v1/clusters/available-regions", "CockroachCloud_ListAvailableRegions"))

    def test_parameter_matches_cluster_id(self):
        t, op = SPEC.find_operation("PATCH", CMEK)
        self.assertEqual((t, op["operationId"]),
                         ("/api/v1/clusters/{cluster_id}/cmek", "CockroachCloud_UpdateCMEKStatus"))

    def test_method_chosen_before_literal(self):
        # grpc-gateway routes by method first: DELETE reaches DeleteCluster(cluster_id=...).
        t, op = SPEC.find_operation("DELETE", "/api/v1/clusters/available-regions")
        self.assertEqual(op["operationId"], "CockroachCloud_DeleteCluster")

    def test_query_string_stripped(self):
        t, _ = SPEC.find_operation("GET", "/api/v1/clusters?pagination.limit=5&show_inactive=true")
        self.assertEqual(t, "/api/v1/clusters")

    def test_two_parameters(self):
        t, op = SPEC.find_operation(
            "DELETE", "/api/v1/clusters/%s/networking/allowlist/10.0.0.0/8" % CLUSTER_ID)
        self.assertEqual(op["operationId"], "CockroachCloud_DeleteAllowlistEntry")

    def test_unknown_path(self):
        self.assertEqual(check("GET", "/api/v1/clusters/%s/keys" % CLUSTER_ID, 200, {}),
                         ["no path in the spec matches /api/v1/clusters/%s/keys" % CLUSTER_ID])

    def test_trailing_slash_is_another_path(self):
        self.assertEqual(check("GET", "/api/v1/organization/", 200, ORGANIZATION),
                         ["no path in the spec matches /api/v1/organization/"])

    def test_unknown_method(self):
        self.assertEqual(check("PUT", "/api/v1/organization", 200, ORGANIZATION),
                         ["the spec has no PUT for /api/v1/organization (it has GET)"])

    def test_error_for_unknown_path_is_a_status(self):
        self.assertEqual(check("GET", "/api/v1/clusters/%s/keys" % CLUSTER_ID, 404,
                               {"code": 5, "message": "Not Found", "details": []}), [])

    def test_error_for_unknown_method_is_a_status(self):
        self.assertEqual(check("DELETE", "/api/v1/organization", 501,
                               {"code": 12, "message": "Method Not Allowed", "details": []}), [])

    def test_error_for_unknown_path_not_a_status(self):
        self.assertEqual(check("GET", "/api/v1/nope", 404, {"error": "not found"}),
                         ["$.error: unknown property (not in Status)",
                          "$: missing required property 'code' (an error body)",
                          "$: missing required property 'message' (an error body)"])

    def test_error_for_unknown_method_wrong_code(self):
        self.assertEqual(check("DELETE", "/api/v1/organization", 405,
                               {"code": 12, "message": "Method Not Allowed"}),
                         ["$.code: gRPC code 12 (UNIMPLEMENTED) is answered with HTTP 501, not 405"])

    def test_unknown_method_on_cmek(self):
        self.assertEqual(check("DELETE", CMEK, 200, {}),
                         ["the spec has no DELETE for /api/v1/clusters/{cluster_id}/cmek "
                          "(it has GET, PATCH, POST, PUT)"])


class Valid(unittest.TestCase):
    def test_cmek_cluster_info(self):
        for method in ("GET", "POST", "PUT", "PATCH"):
            self.assertEqual(check(method, CMEK, 200, CMEK_INFO), [], method)

    def test_cmek_cluster_info_empty(self):
        self.assertEqual(check("GET", CMEK, 200, {}), [])

    def test_organization(self):
        self.assertEqual(check("GET", "/api/v1/organization", 200, ORGANIZATION), [])

    def test_cluster_with_every_required_field(self):
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, CLUSTER), [])

    def test_list_clusters(self):
        body = {"clusters": [CLUSTER], "pagination": {"next_page": "", "previous_page": ""}}
        self.assertEqual(check("GET", "/api/v1/clusters", 200, body), [])

    def test_serverless_usage_limits_int64_as_string(self):
        c = copy.deepcopy(CLUSTER)
        c["config"] = {"serverless": {"routing_id": "x-1533", "upgrade_type": "AUTOMATIC",
                                      "usage_limits": {"provisioned_virtual_cpus": "2",
                                                       "request_unit_limit": "9223372036854775807"}}}
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c), [])

    def test_status_error_each_mapping(self):
        for code, http in ((3, 400), (9, 400), (5, 404), (7, 403), (16, 401), (6, 409), (14, 503),
                           (13, 500)):
            body = {"code": code, "message": "m", "details": []}
            self.assertEqual(check("POST", CMEK, http, body), [], (code, http))

    def test_status_with_any_detail(self):
        body = {"code": 3, "message": "invalid argument: missing region us-west-2",
                "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                             "field_violations": [{"field": "region_specs"}]}]}
        self.assertEqual(check("POST", CMEK, 400, body), [])

    def test_empty_message_response(self):
        self.assertEqual(check("DELETE", "/api/v1/folders/f1", 200, {}), [])

    def test_rfc3339_offsets_and_fractions(self):
        for ts in ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.5+05:30", "2024-02-29t23:59:60z"):
            o = dict(ORGANIZATION, created_at=ts)
            self.assertEqual(check("GET", "/api/v1/organization", 200, o), [], ts)


class Invalid(unittest.TestCase):
    def test_wrong_enum(self):
        body = copy.deepcopy(CMEK_INFO)
        body["region_infos"][0]["key_infos"][0]["status"] = "ENABLEDX"
        self.assertEqual(check("GET", CMEK, 200, body),
                         ["$.region_infos[0].key_infos[0].status: 'ENABLEDX' is not one of " +
                          ENUM_CMEK_STATUS])

    def test_wrong_key_type_enum(self):
        body = copy.deepcopy(CMEK_INFO)
        body["region_infos"][0]["key_infos"][0]["spec"]["type"] = "aws_kms"
        self.assertEqual(check("GET", CMEK, 200, body),
                         ["$.region_infos[0].key_infos[0].spec.type: 'aws_kms' is not one of "
                          "['AWS_KMS', 'GCP_CLOUD_KMS', 'NULL_KMS', 'AZURE_KEY_VAULT']"])

    def test_int64_as_number(self):
        c = copy.deepcopy(CLUSTER)
        c["config"] = {"serverless": {"routing_id": "r", "upgrade_type": "MANUAL",
                                      "usage_limits": {"provisioned_virtual_cpus": 2}}}
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$.config.serverless.usage_limits.provisioned_virtual_cpus: int64 is "
                          "carried as a JSON string of digits (grpc-gateway), got integer 2"])

    def test_int64_not_digits_and_out_of_range(self):
        c = copy.deepcopy(CLUSTER)
        c["config"] = {"serverless": {"routing_id": "r", "upgrade_type": "MANUAL",
                                      "usage_limits": {"provisioned_virtual_cpus": "2.0",
                                                       "storage_mib_limit": "9223372036854775808"}}}
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$.config.serverless.usage_limits.provisioned_virtual_cpus: '2.0' is not "
                          "a decimal int64",
                          "$.config.serverless.usage_limits.storage_mib_limit: "
                          "9223372036854775808 is out of the int64 range"])

    def test_int32_as_string(self):
        c = copy.deepcopy(CLUSTER)
        c["regions"][0]["node_count"] = "3"
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$.regions[0].node_count: expected integer (int32), got string '3'"])

    def test_int32_as_float_and_out_of_range(self):
        c = copy.deepcopy(CLUSTER)
        c["config"]["dedicated"]["num_virtual_cpus"] = 4.0
        c["config"]["dedicated"]["storage_gib"] = 2**31
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$.config.dedicated.num_virtual_cpus: expected integer (int32), got number 4.0",
                          "$.config.dedicated.storage_gib: 2147483648 is out of the int32 range"])

    def test_boolean_is_not_integer(self):
        c = copy.deepcopy(CLUSTER)
        c["regions"][0]["node_count"] = True
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$.regions[0].node_count: expected integer (int32), got boolean true"])

    def test_missing_required(self):
        c = copy.deepcopy(CLUSTER)
        del c["plan"]
        del c["is_customer_cloud_account"]
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$: missing required property 'plan' (Cluster)",
                          "$: missing required property 'is_customer_cloud_account' (Cluster)"])

    def test_missing_required_deep(self):
        c = copy.deepcopy(CLUSTER)
        del c["regions"][0]["private_endpoint_dns"]
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$.regions[0]: missing required property 'private_endpoint_dns' (Region)"])

    def test_required_null(self):
        o = dict(ORGANIZATION, created_at=None)
        self.assertEqual(check("GET", "/api/v1/organization", 200, o),
                         ["$.created_at: required property is null"])

    def test_null_scalar(self):
        c = copy.deepcopy(CLUSTER)
        c["account_id"] = None
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$.account_id: expected string, got null"])

    def test_null_array_element(self):
        body = {"status": "ENABLED", "region_infos": [None]}
        self.assertEqual(check("GET", CMEK, 200, body),
                         ["$.region_infos[0]: expected object, got null"])

    def test_unknown_field(self):
        o = dict(ORGANIZATION, tier="gold")
        self.assertEqual(check("GET", "/api/v1/organization", 200, o),
                         ["$.tier: unknown property (not in Organization)"])

    def test_unknown_field_deep(self):
        body = copy.deepcopy(CMEK_INFO)
        body["region_infos"][0]["key_infos"][0]["spec"]["key_arn"] = "arn:..."
        self.assertEqual(check("GET", CMEK, 200, body),
                         ["$.region_infos[0].key_infos[0].spec.key_arn: unknown property "
                          "(not in CMEKKeySpecification)"])

    def test_unknown_field_in_empty_message(self):
        self.assertEqual(check("DELETE", "/api/v1/folders/f1", 200, {"ok": True}),
                         ["$.ok: unknown property (not in the schema)"])

    def test_wrong_type_deep_in_array(self):
        body = copy.deepcopy(CMEK_INFO)
        body["region_infos"][0]["key_infos"][0]["user_message"] = ["no"]
        self.assertEqual(check("GET", CMEK, 200, body),
                         ["$.region_infos[0].key_infos[0].user_message: expected string, got array"])

    def test_array_expected(self):
        body = dict(CMEK_INFO, region_infos={"us-east-1": {}})
        self.assertEqual(check("GET", CMEK, 200, body),
                         ["$.region_infos: expected array, got object"])

    def test_object_expected(self):
        self.assertEqual(check("GET", CMEK, 200, "ENABLED"),
                         ["$: expected object (CMEKClusterInfo), got string 'ENABLED'"])

    def test_map_value_type(self):
        c = copy.deepcopy(CLUSTER)
        c["labels"]["cost-center"] = 12345
        self.assertEqual(check("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, c),
                         ["$.labels['cost-center']: expected string, got integer 12345"])

    def test_date_time(self):
        for ts in ("2026-01-01 00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z",
                   "2026-01-01T00:00:00", "1767225600"):
            o = dict(ORGANIZATION, created_at=ts)
            self.assertEqual(check("GET", "/api/v1/organization", 200, o),
                             ["$.created_at: %r is not an RFC 3339 date-time" % ts], ts)

    def test_error_body_not_a_status(self):
        body = {"error": "not found"}
        self.assertEqual(check("GET", CMEK, 404, body),
                         ["$.error: unknown property (not in Status)",
                          "$: missing required property 'code' (an error body)",
                          "$: missing required property 'message' (an error body)"])

    def test_error_code_wrong_type(self):
        body = {"code": "NOT_FOUND", "message": "m", "details": []}
        self.assertEqual(check("GET", CMEK, 404, body),
                         ["$.code: expected integer (int32), got string 'NOT_FOUND'"])

    def test_error_code_does_not_match_http_status(self):
        self.assertEqual(check("GET", CMEK, 400, STATUS_404),
                         ["$.code: gRPC code 5 (NOT_FOUND) is answered with HTTP 404, not 400"])

    def test_error_code_not_grpc(self):
        self.assertEqual(check("GET", CMEK, 404, dict(STATUS_404, code=404)),
                         ["$.code: 404 is not a gRPC error code"])

    def test_default_response_is_status(self):
        # 409 is not declared: "default" (Status) applies, checked once.
        self.assertEqual(check("POST", CMEK, 409, {"code": 6, "message": 1}),
                         ["$.message: expected string, got integer 1"])

    def test_any_without_type(self):
        body = dict(STATUS_404, details=[{"reason": "x"}])
        self.assertEqual(check("GET", CMEK, 404, body),
                         ["$.details[0]: missing the '@type' of a google.protobuf.Any"])

    def test_any_type_not_url(self):
        body = dict(STATUS_404, details=[{"@type": "google.rpc.ErrorInfo"}])
        self.assertEqual(check("GET", CMEK, 404, body),
                         ["$.details[0]['@type']: 'google.rpc.ErrorInfo' is not a type URL (no '/')"])

    def test_success_status_not_declared(self):
        # 201 is not a status the spec gives: the "default" Status schema applies.
        self.assertEqual(check("POST", CMEK, 201, CMEK_INFO),
                         ["$.status: unknown property (not in Status)",
                          "$.region_infos: unknown property (not in Status)"])


class SchemaKeywords(unittest.TestCase):
    """Keywords the Cloud API spec does not use today, on a small spec of their own."""

    DOC = {"openapi": "3.0.0", "paths": {}, "components": {"schemas": {
        "N": {"type": "string", "nullable": True},
        "All": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}},
                           "additionalProperties": True},
                          {"type": "object", "required": ["a"], "additionalProperties": True}]},
        "One": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
        "AnyOf": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
        "Id": {"type": "string", "format": "uuid"},
    }}}

    def setUp(self):
        self.spec = validate.OpenAPI(self.DOC)

    def v(self, name, value):
        return self.spec.validate({"$ref": "#/components/schemas/" + name}, value)

    def test_nullable(self):
        self.assertEqual(self.v("N", None), [])
        self.assertEqual(self.v("N", 1), ["$: expected string, got integer 1"])

    def test_all_of(self):
        self.assertEqual(self.v("All", {"a": "x"}), [])
        self.assertEqual(self.v("All", {"a": 1}), ["$.a: expected string, got integer 1"])
        self.assertEqual(self.v("All", {}), ["$: missing required property 'a' (All)"])

    def test_one_of(self):
        self.assertEqual(self.v("One", 1.5), [])
        self.assertEqual(self.v("One", 1), ["$: matches 2 of the oneOf schemas, not exactly one"])
        self.assertEqual(self.v("One", "1"),
                         ["$: matches none of the 2 oneOf schemas (the first says: "
                          "$: expected integer, got string '1')"])

    def test_any_of(self):
        self.assertEqual(self.v("AnyOf", True), [])
        self.assertEqual(self.v("AnyOf", 1),
                         ["$: matches none of the 2 anyOf schemas (the first says: "
                          "$: expected string, got integer 1)"])

    def test_uuid(self):
        self.assertEqual(self.v("Id", CLUSTER_ID), [])
        self.assertEqual(self.v("Id", "3c5e2a1b"), ["$: '3c5e2a1b' is not a UUID"])

    def test_bad_ref_is_a_spec_error(self):
        with self.assertRaises(validate.SpecError):
            self.spec.validate({"$ref": "#/components/schemas/Nope"}, 1)


class Cli(unittest.TestCase):
    def run_cli(self, lines=None, create=True):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "responses.jsonl")
            if create:
                with open(log, "w") as f:
                    f.write("".join(line + "\n" for line in lines))
            p = subprocess.run([sys.executable, os.path.join(HERE, "validate.py"), "--spec",
                                SPEC_PATH, log], capture_output=True, text=True)
            return p.returncode, p.stdout.replace(log, "LOG"), p.stderr

    def entry(self, method, path, status, body):
        return json.dumps({"method": method, "path": path, "status": status, "body": body})

    def test_all_valid(self):
        rc, out, err = self.run_cli([self.entry("GET", "/api/v1/organization", 200, ORGANIZATION),
                                     "",
                                     self.entry("GET", CMEK + "?x=1", 404, STATUS_404)])
        self.assertEqual((rc, out, err), (0, "openapi: 2 responses valid, 0 invalid\n", ""))

    def test_one_invalid(self):
        body = copy.deepcopy(CMEK_INFO)
        body["status"] = "ON"
        rc, out, _ = self.run_cli([self.entry("GET", "/api/v1/organization", 200, ORGANIZATION),
                                   self.entry("post", CMEK, 200, body)])
        self.assertEqual(rc, 1)
        self.assertEqual(out, "LOG:2: POST %s 200: $.status: 'ON' is not one of %s\n"
                              "openapi: 1 responses valid, 1 invalid\n" % (CMEK, ENUM_CMEK_STATUS))

    def test_bad_log_lines(self):
        rc, out, _ = self.run_cli(["{not json", json.dumps({"method": "GET", "path": "/x"}),
                                   json.dumps({"method": "GET", "path": "/x", "status": "200",
                                               "body": {}}),
                                   json.dumps({"method": "GET", "path": "/api/v1/organization",
                                               "status": 200})])
        self.assertEqual(rc, 1)
        self.assertEqual(out.splitlines(), [
            "LOG:1: not a JSON line: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
            "LOG:2: the log line needs an integer \"status\"",
            "LOG:3: the log line needs an integer \"status\"",
            "LOG:4: the log line has no \"body\"",
            "openapi: 0 responses valid, 4 invalid"])

    def test_empty_log_fails(self):
        rc, out, _ = self.run_cli([])
        self.assertEqual((rc, out), (1, "openapi: 0 responses valid, 0 invalid\n"
                                        "openapi: nothing was checked (no responses in LOG)\n"))

    def test_missing_log_fails(self):
        rc, out, _ = self.run_cli(create=False)
        self.assertEqual(rc, 1)
        self.assertEqual(out, "openapi: cannot read LOG: No such file or directory\n"
                              "openapi: 0 responses valid, 0 invalid\n"
                              "openapi: nothing was checked (no responses in LOG)\n")

    def test_unreadable_spec(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "validate.py"), "--spec",
                            "/nonexistent/openapi.json", "/dev/null"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("openapi: cannot use the spec: /nonexistent/openapi.json:", p.stderr)

    def test_main_counts(self):
        # In-process, for the summary text and the exit status together.
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write(self.entry("GET", "/api/v1/clusters/" + CLUSTER_ID, 200, CLUSTER) + "\n")
            name = f.name
        try:
            out = io.StringIO()
            old, sys.stdout = sys.stdout, out
            try:
                rc = validate.main(["--spec", SPEC_PATH, name])
            finally:
                sys.stdout = old
        finally:
            os.unlink(name)
        self.assertEqual((rc, out.getvalue()), (0, "openapi: 1 responses valid, 0 invalid\n"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
