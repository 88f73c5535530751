#!/usr/bin/env bash
# Conformance: the unmodified AWS CLI (and curl's independent SigV4 signer) against
# cmek-emulator, through the CMEK cross-account trust flow of the CockroachDB docs.
#   awscli.sh --emulator PATH   start a private emulator on a free port, stop it after
#   awscli.sh --url URL         use a running emulator (its state is reset first)
# Prints a line per check and "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
conf_start "$@"

customer=(env AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY)
crdb=(env AWS_ACCESS_KEY_ID=AKIAI44QH8DHBEXAMPLE AWS_SECRET_ACCESS_KEY=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY)
org="9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"
role="crdb-cmek-role"
role_arn="arn:aws:iam::111122223333:role/$role"


cat >"$work/trust.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Sid":"CockroachCloudCMEK","Effect":"Allow",
 "Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole",
 "Condition":{"StringEquals":{"sts:ExternalId":"$org"}}}]}
JSON

# 1. The customer's administrator creates the cross-account role.
if out=$("${customer[@]}" aws --endpoint-url "$url" iam create-role --role-name "$role" \
        --assume-role-policy-document "file://$work/trust.json" --output json 2>&1) &&
    grep -q "\"Arn\": \"$role_arn\"" <<<"$out" && grep -q '"RoleId": "AROA' <<<"$out" &&
    grep -q '"sts:ExternalId": "'"$org"'"' <<<"$out"; then
    ok "customer creates $role trusting 999988887777 with ExternalId"
else
    fail "customer creates $role" "$out"
fi
if out=$("${customer[@]}" aws --endpoint-url "$url" iam get-role --role-name "$role" \
        --query 'Role.AssumeRolePolicyDocument.Statement[0].Principal.AWS' --output text 2>&1) &&
    [[ "$out" == "arn:aws:iam::999988887777:root" ]]; then
    ok "get-role returns the trust policy (URL-encoded on the wire, decoded by the CLI)"
else
    fail "get-role trust policy" "$out"
fi

# 2. CockroachDB Cloud's account assumes it: without, with a wrong and with the right ExternalId.
denied="User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized to perform: sts:AssumeRole on resource: $role_arn"
expect_error "assume-role without an external id" AccessDenied "$denied" -- \
    "${crdb[@]}" aws --endpoint-url "$url" sts assume-role --role-arn "$role_arn" --role-session-name drill
expect_error "assume-role with a wrong external id" AccessDenied "$denied" -- \
    "${crdb[@]}" aws --endpoint-url "$url" sts assume-role --role-arn "$role_arn" \
    --role-session-name drill --external-id wrong-org-id
creds=""
if out=$("${crdb[@]}" aws --endpoint-url "$url" sts assume-role --role-arn "$role_arn" \
        --role-session-name drill --external-id "$org" \
        --query '[Credentials.AccessKeyId,Credentials.SecretAccessKey,Credentials.SessionToken,AssumedRoleUser.Arn]' \
        --output text 2>&1) && [[ "$out" == ASIA* ]]; then
    creds="$out"
    ok "assume-role with the organization id as external id returns ASIA credentials"
else
    fail "assume-role with the right external id" "$out"
fi
read -r s_key s_secret s_token s_arn <<<"$creds"
session=(env AWS_ACCESS_KEY_ID="$s_key" AWS_SECRET_ACCESS_KEY="$s_secret" AWS_SESSION_TOKEN="$s_token")

# 3. The session's identity.
if out=$("${session[@]}" aws --endpoint-url "$url" sts get-caller-identity --query Arn --output text 2>&1) &&
    [[ "$out" == "arn:aws:sts::111122223333:assumed-role/$role/drill" && "$s_arn" == "$out" ]]; then
    ok "get-caller-identity with the session shows the assumed-role ARN"
else
    fail "get-caller-identity with the session" "$out"
fi

# 4. A wrong secret, and a request signed 20 minutes in the past (STS allows 15).
expect_error "wrong secret" SignatureDoesNotMatch "The request signature we calculated does not match" -- \
    env AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=not-the-secret \
    aws --endpoint-url "$url" sts get-caller-identity
expect_error "unknown access key" InvalidClientTokenId "The security token included in the request is invalid." -- \
    env AWS_ACCESS_KEY_ID=AKIAEXAMPLEUNKNOWN00 AWS_SECRET_ACCESS_KEY=x \
    aws --endpoint-url "$url" sts get-caller-identity
if command -v faketime >/dev/null 2>&1; then
    expect_error "request dated 20 minutes back" SignatureDoesNotMatch "- 15 min.)" -- \
        faketime -f -20m "${customer[@]}" aws --endpoint-url "$url" sts get-caller-identity
else
    fail "request dated 20 minutes back: faketime is not installed (scripts/deps.sh test installs it)"
fi

# KMS answers signature failures in its own JSON protocol and allows 5 minutes of skew.
expect_error "KMS with an unknown access key" UnrecognizedClientException \
    "The security token included in the request is invalid." -- \
    env AWS_ACCESS_KEY_ID=AKIAEXAMPLEUNKNOWN00 AWS_SECRET_ACCESS_KEY=x aws --endpoint-url "$url" kms list-keys
expect_error "KMS with a wrong secret" InvalidSignatureException \
    "The request signature we calculated does not match" -- \
    env AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=not-the-secret \
    aws --endpoint-url "$url" kms list-keys
if command -v faketime >/dev/null 2>&1; then
    expect_error "KMS request dated 6 minutes back" InvalidSignatureException "- 5 min.)" -- \
        faketime -f -6m "${customer[@]}" aws --endpoint-url "$url" kms list-keys
fi

# 5. The emulator clock moves past the session's expiry.
curl -sf -XPOST "$url/_emulator/clock" -d '{"advance":"61m"}' >/dev/null
expect_error "session after the emulator clock passed its expiry" ExpiredToken \
    "The security token included in the request is expired" -- \
    "${session[@]}" aws --endpoint-url "$url" sts get-caller-identity
if out=$("${customer[@]}" aws --endpoint-url "$url" sts get-caller-identity --query Arn --output text 2>&1) &&
    [[ "$out" == "arn:aws:iam::111122223333:user/admin" ]]; then
    ok "long-term credentials still work after the clock moved (signature age uses the wall clock)"
else
    fail "long-term credentials after the clock moved" "$out"
fi

# 6. Malformed requests, signed by curl's own SigV4 implementation (an independent signer).
sig=(--aws-sigv4 "aws:amz:us-east-1:iam" --user "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
     -H "Content-Type: application/x-www-form-urlencoded")
check_xml() { # DESCRIPTION STATUS CODE curl-args...
    local what="$1" want_status="$2" want_code="$3"; shift 3
    local out status
    out=$(curl -s -w '\n%{http_code}' "$@" 2>&1)
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    if [[ "$status" == "$want_status" ]] && grep -q "<ErrorResponse" <<<"$out" &&
        grep -q "<Code>$want_code</Code>" <<<"$out" && grep -q "<RequestId>" <<<"$out"; then
        ok "$what: $want_status $want_code"
    else
        fail "$what: expected $want_status $want_code" "$status $out"
    fi
}
check_xml "curl-signed unknown action" 400 InvalidAction "${sig[@]}" -d 'Action=Frobnicate&Version=2010-05-08' "$url/"
check_xml "curl-signed CreateRole without RoleName" 400 ValidationError "${sig[@]}" -d 'Action=CreateRole&Version=2010-05-08' "$url/"
check_xml "curl-signed malformed percent escape" 400 MalformedQueryString "${sig[@]}" -d 'Action=GetRole&RoleName=%zz' "$url/"
check_xml "curl-signed missing Action" 400 MissingAction "${sig[@]}" -d 'Version=2010-05-08' "$url/"
check_xml "unsigned request" 403 MissingAuthenticationToken -H "Content-Type: application/x-www-form-urlencoded" -d 'Action=GetCallerIdentity&Version=2011-06-15' "$url/"
check_xml "body over the size cap" 413 RequestEntityTooLarge "${sig[@]}" --data-binary "@/dev/stdin" "$url/" \
    < <(head -c 1100000 /dev/zero | tr '\0' 'a')
if out=$(curl -s "${sig[@]}" -d 'Action=GetRole&Version=2010-05-08&RoleName='"$role" "$url/") &&
    grep -q "<RoleName>$role</RoleName>" <<<"$out"; then
    ok "curl-signed GetRole succeeds (curl's signer and the emulator's verifier agree)"
else
    fail "curl-signed GetRole" "$out"
fi
if curl -sf "$url/_emulator/health" | grep -q '"status":"ok"'; then
    ok "the emulator is still serving after the bad requests"
else
    fail "the emulator is still serving after the bad requests"
fi

conf_finish awscli
