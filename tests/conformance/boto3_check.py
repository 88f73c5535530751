#!/usr/bin/env python3
"""Conformance: unmodified boto3 against cmek-emulator (IAM, STS and KMS).

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
    run_kms(url, c)
    other_region = client(url, "sts", *CUSTOMER, region="eu-west-1")
    check("a client in another region signs its own scope and is accepted",
          other_region.get_caller_identity()["Arn"] == "arn:aws:iam::111122223333:user/admin")


def run_kms(url, session_creds):
    """The CMEK key flow through boto3: the key with the crdb-cmek-kms statement, the role
    session's allowed and denied calls, aliases, rotation, multi-Region keys and import."""
    kms = client(url, "kms", *CUSTOMER)
    role = "arn:aws:iam::111122223333:role/crdb-cmek-role"
    admin_stmt = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                  "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
                  "Resource": "*"}
    cmek_stmt = {"Sid": "crdb-cmek-kms", "Effect": "Allow", "Principal": {"AWS": role},
                 "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*",
                            "kms:DescribeKey", "kms:ReEncrypt*"], "Resource": "*"}
    policy = json.dumps({"Version": "2012-10-17", "Statement": [admin_stmt, cmek_stmt]})
    md = kms.create_key(Description="crdb cmek", Policy=policy)["KeyMetadata"]
    check("create_key: Enabled, SYMMETRIC_DEFAULT, CreationDate parsed as a datetime",
          md["KeyState"] == "Enabled" and md["KeySpec"] == "SYMMETRIC_DEFAULT" and
          hasattr(md["CreationDate"], "year"), md)
    arn = md["Arn"]
    kms.create_alias(AliasName="alias/crdb-cmek", TargetKeyId=md["KeyId"])
    check("describe_key through the alias", kms.describe_key(KeyId="alias/crdb-cmek")
          ["KeyMetadata"]["Arn"] == arn)
    sk = client(url, "kms", session_creds["AccessKeyId"], session_creds["SecretAccessKey"],
                session_creds["SessionToken"])
    blob = sk.encrypt(KeyId=arn, Plaintext=b"customer data",
                      EncryptionContext={"cluster": "cmek-drill"})["CiphertextBlob"]
    out = sk.decrypt(CiphertextBlob=blob, EncryptionContext={"cluster": "cmek-drill"})
    check("session encrypts and decrypts with an encryption context",
          out["Plaintext"] == b"customer data" and out["KeyId"] == arn, out)
    code, msg, status = error_of(sk.decrypt, CiphertextBlob=blob,
                                 EncryptionContext={"cluster": "other"})
    check("another encryption context: InvalidCiphertextException",
          (code, status) == ("InvalidCiphertextException", 400), (code, msg, status))
    dk = sk.generate_data_key(KeyId=arn, KeySpec="AES_256")
    check("session generates a 32-byte data key", len(dk["Plaintext"]) == 32)
    code, msg, status = error_of(sk.disable_key, KeyId=arn)
    check("session may not disable the key", code == "AccessDeniedException" and
          "kms:DisableKey" in msg, (code, msg))
    kms.put_key_policy(KeyId=arn, PolicyName="default",
                       Policy=json.dumps({"Version": "2012-10-17", "Statement": [admin_stmt]}))
    code, msg, status = error_of(sk.decrypt, CiphertextBlob=blob,
                                 EncryptionContext={"cluster": "cmek-drill"})
    check("revoked by the key policy: AccessDeniedException on the next call",
          code == "AccessDeniedException", (code, msg))
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=policy)
    check("restored: the old ciphertext decrypts again",
          sk.decrypt(CiphertextBlob=blob, EncryptionContext={"cluster": "cmek-drill"})
          ["Plaintext"] == b"customer data")
    kms.rotate_key_on_demand(KeyId=arn)
    rotations = kms.list_key_rotations(KeyId=arn)["Rotations"]
    check("rotate_key_on_demand is listed and old data still decrypts",
          len(rotations) == 1 and rotations[0]["RotationType"] == "ON_DEMAND" and
          kms.decrypt(CiphertextBlob=blob, EncryptionContext={"cluster": "cmek-drill"})
          ["Plaintext"] == b"customer data", rotations)
    mrk = kms.create_key(MultiRegion=True)["KeyMetadata"]
    rep = kms.replicate_key(KeyId=mrk["KeyId"], ReplicaRegion="us-west-2")
    west = client(url, "kms", *CUSTOMER, region="us-west-2")
    mblob = kms.encrypt(KeyId=mrk["KeyId"], Plaintext=b"mrk")["CiphertextBlob"]
    check("a multi-Region key's ciphertext decrypts in the replica's region",
          mrk["KeyId"].startswith("mrk-") and
          rep["ReplicaKeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
          and west.decrypt(CiphertextBlob=mblob)["Plaintext"] == b"mrk")
    code, msg, status = error_of(west.describe_key, KeyId=arn)
    check("a key is not found from another region", code == "NotFoundException", (code, msg))
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
    except ImportError:
        check("import: the cryptography package is missing", False)
        return
    ext = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]
    params = kms.get_parameters_for_import(KeyId=ext["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    public = serialization.load_der_public_key(params["PublicKey"])
    material = bytes(range(32))
    wrapped = public.encrypt(material, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                    algorithm=hashes.SHA256(), label=None))
    kms.import_key_material(KeyId=ext["KeyId"], ImportToken=params["ImportToken"],
                            EncryptedKeyMaterial=wrapped,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    state = kms.describe_key(KeyId=ext["KeyId"])["KeyMetadata"]["KeyState"]
    eblob = kms.encrypt(KeyId=ext["KeyId"], Plaintext=b"imported")["CiphertextBlob"]
    check("import with key material wrapped by the cryptography package",
          state == "Enabled" and kms.decrypt(CiphertextBlob=eblob)["Plaintext"] == b"imported",
          state)


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
