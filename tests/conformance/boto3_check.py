#!/usr/bin/env python3
"""Conformance: unmodified boto3 against cmek-emulator (IAM, STS, and KMS's SigV4 front door).

usage: boto3_check.py --emulator PATH | --url URL
Prints a line per check and "N passed, N failed"; exits 1 on any failure."""
import json
import subprocess
import sys
import urllib.request

import boto3
import botocore.config
from botocore.exceptions import ClientError

ORG = "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"
CUSTOMER = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
CRDB = ("AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY")
results = {"passed": 0, "failed": 0}


def check(what, cond, detail=""):
    key = "passed" if cond else "failed"
    results[key] += 1
    print(("ok - " if cond else "not ok - ") + what)
    if not cond and detail:
        print("    " + str(detail).replace("\n", "\n    "))


def client(url, service, key, secret, token=None, region="us-east-1"):
    cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token, config=cfg)


def error_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", ""), \
            e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, None, None


def run(url):
    urllib.request.urlopen(urllib.request.Request(url + "/_emulator/reset", method="POST"))
    iam = client(url, "iam", *CUSTOMER)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": ORG}}}]}
    role = iam.create_role(RoleName="crdb-cmek-role", AssumeRolePolicyDocument=json.dumps(trust),
                           Description="CockroachDB CMEK", MaxSessionDuration=7200)["Role"]
    check("create_role returns an AROA id and the role ARN",
          role["RoleId"].startswith("AROA") and
          role["Arn"] == "arn:aws:iam::111122223333:role/crdb-cmek-role", role)
    got = iam.get_role(RoleName="crdb-cmek-role")["Role"]
    check("get_role decodes the URL-encoded trust policy to the same document",
          got["AssumeRolePolicyDocument"] == trust and got["MaxSessionDuration"] == 7200, got)
    iam.put_role_policy(RoleName="crdb-cmek-role", PolicyName="inline",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}))
    check("list_role_policies lists the inline policy",
          iam.list_role_policies(RoleName="crdb-cmek-role")["PolicyNames"] == ["inline"])
    code, msg, status = error_of(iam.get_role, RoleName="nobody")
    check("get_role of a missing role: NoSuchEntity 404",
          (code, status) == ("NoSuchEntity", 404) and msg == "The role with name nobody cannot be found.",
          (code, msg, status))
    code, msg, status = error_of(iam.create_role, RoleName="crdb-cmek-role",
                                 AssumeRolePolicyDocument=json.dumps(trust))
    check("create_role twice: EntityAlreadyExists 409",
          (code, status) == ("EntityAlreadyExists", 409), (code, msg, status))
    code, msg, status = error_of(iam.create_role, RoleName="bad", AssumeRolePolicyDocument="{not json")
    check("create_role with invalid JSON: MalformedPolicyDocument 400",
          (code, status) == ("MalformedPolicyDocument", 400), (code, msg, status))

    sts = client(url, "sts", *CRDB)
    arn = "arn:aws:iam::111122223333:role/crdb-cmek-role"
    code, msg, status = error_of(sts.assume_role, RoleArn=arn, RoleSessionName="s0")
    check("assume_role without ExternalId: AccessDenied 403", (code, status) == ("AccessDenied", 403),
          (code, msg, status))
    code, msg, status = error_of(sts.assume_role, RoleArn=arn, RoleSessionName="s1", ExternalId="nope")
    check("assume_role with a wrong ExternalId: AccessDenied 403",
          (code, status) == ("AccessDenied", 403), (code, msg, status))
    resp = sts.assume_role(RoleArn=arn, RoleSessionName="drill", ExternalId=ORG, DurationSeconds=7200)
    c = resp["Credentials"]
    check("assume_role with the right ExternalId: ASIA credentials and a datetime Expiration",
          c["AccessKeyId"].startswith("ASIA") and hasattr(c["Expiration"], "year"), resp)
    session = client(url, "sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    ident = session.get_caller_identity()
    check("get_caller_identity of the session",
          ident["Arn"] == "arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/drill" and
          ident["UserId"] == role["RoleId"] + ":drill" and ident["Account"] == "111122223333", ident)
    siam = client(url, "iam", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    check("the session may do what the role's inline policy allows (iam:GetRole)",
          siam.get_role(RoleName="crdb-cmek-role")["Role"]["RoleName"] == "crdb-cmek-role")
    code, msg, status = error_of(siam.list_roles)
    check("and nothing else: ListRoles AccessDenied naming the session",
          code == "AccessDenied" and msg.startswith(
              "User: arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/drill is not authorized "
              "to perform: iam:ListRoles"), (code, msg, status))
    kms = client(url, "kms", "AKIAEXAMPLEUNKNOWN00", "x")
    code, msg, status = error_of(kms.list_keys)
    check("kms with an unknown key: UnrecognizedClientException 400",
          (code, status) == ("UnrecognizedClientException", 400), (code, msg, status))
    other_region = client(url, "sts", *CUSTOMER, region="eu-west-1")
    check("a client in another region signs its own scope and is accepted",
          other_region.get_caller_identity()["Arn"] == "arn:aws:iam::111122223333:user/admin")


def main():
    args = sys.argv[1:]
    proc = None
    if len(args) == 2 and args[0] == "--emulator":
        proc = subprocess.Popen([args[1], "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        url = proc.stdout.readline().strip()
    elif len(args) == 2 and args[0] == "--url":
        url = args[1]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        run(url)
    except Exception as e:  # an unexpected exception is a failed check, not a crash
        check("boto3 run completed", False, repr(e))
    finally:
        if proc is not None:
            proc.terminate()
            check("the emulator exits 0 on SIGTERM", proc.wait(timeout=30) == 0)
    print("boto3: %d passed, %d failed" % (results["passed"], results["failed"]))
    return 0 if results["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
