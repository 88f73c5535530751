/* bench_setup.h: the CockroachDB CMEK set-up both KMS benchmarks load (bench_kms over HTTP,
 * bench_inproc in-process): the customer's role trusting CockroachDB Cloud's account
 * 999988887777 with the organization id as external id, a key whose policy has the
 * crdb-cmek-kms statement for that role, and a session of the role. Only the texts of those
 * requests and the reading of their answers live here; each benchmark sends them its own way. */
#ifndef BENCH_SETUP_H
#define BENCH_SETUP_H

#include <stddef.h>

struct bench_creds {
    char akid[64];
    char secret[64];
    char token[1024]; /* "" for long-term keys */
};

/* The world's customer admin (111122223333) and CockroachDB Cloud's principal. */
extern const struct bench_creds bench_admin;
extern const struct bench_creds bench_crdb;

/* IAM CreateRole of crdb-cmek-role (as bench_admin), STS AssumeRole of it (as bench_crdb). */
extern const char bench_create_role_form[];
extern const char bench_assume_role_form[];

/* The KMS CreateKey body with the crdb-cmek-kms key policy; free() it. Exits when out of
 * memory. */
char *bench_create_key_body(void);
/* The Encrypt body for key_arn: 52 bytes of customer data. */
void bench_encrypt_body(const char *key_arn, char *out, size_t cap);
/* The session in an AssumeRole answer. */
void bench_session_from_xml(const char *xml, struct bench_creds *out);

#endif
