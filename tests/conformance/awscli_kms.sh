#!/usr/bin/env bash
# Conformance: the unmodified AWS CLI runs the CockroachDB CMEK key flow against
# cmek-emulator: the customer creates the cross-account role and a key whose policy has the
# crdb-cmek-kms statement; a session of that role, assumed from CockroachDB Cloud's account
# with the organization id, may encrypt, decrypt, generate data keys, re-encrypt and describe
# the key and nothing else; then each revocation path gives its exact error and is restored.
#   awscli_kms.sh --emulator PATH | --url URL
# Prints a line per check and "N passed, N failed"; exits non-zero on any failure.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
conf_start "$@"

customer=(env AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY)
crdb=(env AWS_ACCESS_KEY_ID=AKIAI44QH8DHBEXAMPLE AWS_SECRET_ACCESS_KEY=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY)
org="9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"
role_arn="arn:aws:iam::111122223333:role/crdb-cmek-role"
cust() { "${customer[@]}" aws --endpoint-url "$url" "$@"; }


cat >"$work/trust.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},
 "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"$org"}}}]}
JSON
admin_stmt='{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}'
cmek_stmt='{"Sid":"crdb-cmek-kms","Effect":"Allow","Principal":{"AWS":"'"$role_arn"'"},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey","kms:ReEncrypt*"],"Resource":"*"}'
echo '{"Version":"2012-10-17","Statement":['"$admin_stmt,$cmek_stmt"']}' >"$work/policy-cmek.json"
echo '{"Version":"2012-10-17","Statement":['"$admin_stmt"']}' >"$work/policy-revoked.json"
printf 'customer data' >"$work/plain.bin"

assume() { # SESSION-NAME -> prints "key secret token"
    "${crdb[@]}" aws --endpoint-url "$url" sts assume-role --role-arn "$role_arn" \
        --role-session-name "$1" --external-id "$org" \
        --query '[Credentials.AccessKeyId,Credentials.SecretAccessKey,Credentials.SessionToken]' \
        --output text
}
as_session() { # "key secret token" command...
    local k s t
    read -r k s t <<<"$1"; shift
    env AWS_ACCESS_KEY_ID="$k" AWS_SECRET_ACCESS_KEY="$s" AWS_SESSION_TOKEN="$t" \
        aws --endpoint-url "$url" "$@"
}

# ---- Provisioning, as the CMEK docs describe it ----
expect_ok "customer creates the cross-account role" \
    cust iam create-role --role-name crdb-cmek-role --assume-role-policy-document "file://$work/trust.json"
key_arn=$(cust kms create-key --description "crdb cmek" --policy "file://$work/policy-cmek.json" \
    --query KeyMetadata.Arn --output text 2>&1)
if [[ "$key_arn" == arn:aws:kms:us-east-1:111122223333:key/* ]]; then
    ok "customer creates the key with the crdb-cmek-kms statement"
else
    fail "customer creates the key" "$key_arn"
fi
if out=$(cust kms get-key-policy --key-id "$key_arn" --policy-name default --query Policy --output text 2>&1) &&
    grep -q crdb-cmek-kms <<<"$out"; then
    ok "get-key-policy returns the policy as stored"
else
    fail "get-key-policy" "$out"
fi
session=$(assume cluster 2>&1)
if [[ "$session" == ASIA* ]]; then ok "CockroachDB Cloud assumes the role with the external id"; else fail "assume-role" "$session"; fi

# ---- What the session may do ----
if out=$(as_session "$session" kms encrypt --key-id "$key_arn" --plaintext "fileb://$work/plain.bin" \
        --query CiphertextBlob --output text 2>&1); then
    base64 -d <<<"$out" >"$work/ct.bin"
    ok "session encrypts"
else
    fail "session encrypts" "$out"
fi
if out=$(as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin" --query Plaintext --output text 2>&1) &&
    [[ "$(base64 -d <<<"$out")" == "customer data" ]]; then
    ok "session decrypts to the original bytes"
else
    fail "session decrypts" "$out"
fi
expect_ok "session generates a data key" \
    as_session "$session" kms generate-data-key --key-id "$key_arn" --key-spec AES_256
expect_ok "session generates a data key without plaintext" \
    as_session "$session" kms generate-data-key-without-plaintext --key-id "$key_arn" --number-of-bytes 32
expect_ok "session re-encrypts" \
    as_session "$session" kms re-encrypt --ciphertext-blob "fileb://$work/ct.bin" --destination-key-id "$key_arn"
expect_ok "session describes the key" as_session "$session" kms describe-key --key-id "$key_arn"
denied_fmt="User: arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/cluster is not authorized to perform: kms:%s on resource: $key_arn"
# shellcheck disable=SC2059
expect_error "session disables the key" AccessDeniedException "$(printf "$denied_fmt" DisableKey)" -- \
    as_session "$session" kms disable-key --key-id "$key_arn"
# shellcheck disable=SC2059
expect_error "session schedules deletion" AccessDeniedException "$(printf "$denied_fmt" ScheduleKeyDeletion)" -- \
    as_session "$session" kms schedule-key-deletion --key-id "$key_arn"
# shellcheck disable=SC2059
expect_error "session replaces the key policy" AccessDeniedException "$(printf "$denied_fmt" PutKeyPolicy)" -- \
    as_session "$session" kms put-key-policy --key-id "$key_arn" --policy-name default --policy "file://$work/policy-cmek.json"
# shellcheck disable=SC2059
expect_error "session reads the key policy" AccessDeniedException "$(printf "$denied_fmt" GetKeyPolicy)" -- \
    as_session "$session" kms get-key-policy --key-id "$key_arn" --policy-name default

# ---- a. the key policy loses the role's statement, then gets it back ----
expect_ok "a: customer removes the crdb-cmek-kms statement" \
    cust kms put-key-policy --key-id "$key_arn" --policy-name default --policy "file://$work/policy-revoked.json"
# shellcheck disable=SC2059
expect_error "a: the session's next decrypt" AccessDeniedException "$(printf "$denied_fmt" Decrypt)" -- \
    as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"
expect_ok "a: customer restores the statement" \
    cust kms put-key-policy --key-id "$key_arn" --policy-name default --policy "file://$work/policy-cmek.json"
expect_ok "a: data encrypted before decrypts again" \
    as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"

# ---- b. disable, enable ----
expect_ok "b: customer disables the key" cust kms disable-key --key-id "$key_arn"
expect_error "b: decrypt" DisabledException "$key_arn is disabled." -- \
    as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"
expect_error "b: generate-data-key" DisabledException "$key_arn is disabled." -- \
    as_session "$session" kms generate-data-key --key-id "$key_arn" --key-spec AES_256
expect_ok "b: customer enables the key" cust kms enable-key --key-id "$key_arn"
expect_ok "b: decrypt works again" as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"

# ---- c. scheduled deletion, cancelled ----
expect_ok "c: customer schedules deletion in 7 days" \
    cust kms schedule-key-deletion --key-id "$key_arn" --pending-window-in-days 7
expect_error "c: encrypt" KMSInvalidStateException "$key_arn is pending deletion." -- \
    as_session "$session" kms encrypt --key-id "$key_arn" --plaintext "fileb://$work/plain.bin"
expect_ok "c: customer cancels the deletion" cust kms cancel-key-deletion --key-id "$key_arn"
expect_error "c: the key is Disabled after cancelling" DisabledException "$key_arn is disabled." -- \
    as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"
expect_ok "c: customer enables the key" cust kms enable-key --key-id "$key_arn"
expect_ok "c: decrypt works again" as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"

# ---- d. the trust policy changes: new sessions blocked, issued ones not ----
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}' >"$work/deny-trust.json"
expect_ok "d: customer replaces the trust policy" \
    cust iam update-assume-role-policy --role-name crdb-cmek-role --policy-document "file://$work/deny-trust.json"
expect_error "d: a new assume-role" AccessDenied "is not authorized to perform: sts:AssumeRole on resource: $role_arn" -- \
    "${crdb[@]}" aws --endpoint-url "$url" sts assume-role --role-arn "$role_arn" --role-session-name again --external-id "$org"
expect_ok "d: the issued session still decrypts" as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"
expect_ok "d: customer restores the trust policy" \
    cust iam update-assume-role-policy --role-name crdb-cmek-role --policy-document "file://$work/trust.json"

# ---- e. the role is deleted; a namesake is not authorized by the old statement ----
expect_ok "e: customer deletes the role" cust iam delete-role --role-name crdb-cmek-role
expect_error "e: the deleted role's session" AccessDeniedException "is not authorized to perform: kms:Decrypt" -- \
    as_session "$session" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"
expect_ok "e: customer recreates a role of the same name" \
    cust iam create-role --role-name crdb-cmek-role --assume-role-policy-document "file://$work/trust.json"
fresh=$(assume cluster 2>&1)
expect_error "e: the namesake's session" AccessDeniedException "is not authorized to perform: kms:Decrypt" -- \
    as_session "$fresh" kms decrypt --ciphertext-blob "fileb://$work/ct.bin"

# ---- c (end). the waiting period passes: the key and its data are gone for good ----
expect_ok "c: customer schedules deletion in 7 days again" \
    cust kms schedule-key-deletion --key-id "$key_arn" --pending-window-in-days 7
curl -sf -XPOST "$url/_emulator/clock" -d '{"advance":"7d"}' >/dev/null
expect_error "c: describe-key after the window" NotFoundException "Key '$key_arn' does not exist" -- \
    cust kms describe-key --key-id "$key_arn"
expect_error "c: the old ciphertext can never be decrypted" AccessDeniedException \
    "The ciphertext refers to a customer master key that does not exist" -- \
    cust kms decrypt --ciphertext-blob "fileb://$work/ct.bin"

conf_finish awscli_kms
