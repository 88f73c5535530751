/* ccloud_agent.c: the emulated cluster's AWS side (ccloud_agent.h). A job is built from the
 * cluster under the lock (s_plan), run with the lock released (s_run: per region AssumeRole,
 * then GenerateDataKey to wrap or Decrypt to unwrap), and committed under the lock
 * (s_commit_*). Every AWS failure becomes a user message naming the step, the AWS error code
 * and AWS's own message, e.g. "kms:Decrypt on <key ARN> as <role ARN> failed: DisabledException:
 * <message>". */
#include "ccloud_agent.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "aws_client.h"
#include "ccloud_model.h"
#include "cmek/crypto.h"
#include "cmek/sigv4.h"
#include "service.h"
#include "store.h"

#define S_MSG_MAX    8192
#define S_TOKEN_MAX  2048
#define S_STS_REGION "us-east-1"

struct s_creds {
    char akid[129];
    char secret[129];
    char token[S_TOKEN_MAX];
};

enum s_kind { S_WRAP, S_UNWRAP };

struct s_region_job {
    char region[65];
    char uri[EMU_CC_MAX_FIELD + 1];
    char principal[EMU_CC_MAX_FIELD + 1];
    char *wrapped; /* owned copy; S_UNWRAP input */
    char *sealed;  /* owned copy; S_UNWRAP input */
    /* results */
    bool ok;
    bool key_gone; /* S_UNWRAP: KMS no longer knows the key that wrapped the data key */
    char message[S_MSG_MAX];
    char *new_wrapped;             /* S_WRAP: owned */
    char *new_sealed;              /* S_WRAP: owned */
    uint8_t dek[EMU_CC_KEY_BYTES]; /* S_UNWRAP */
};

struct s_job {
    enum s_kind kind;
    char cluster_id[EMU_CC_MAX_FIELD + 1];
    char org_id[EMU_CC_MAX_FIELD + 1];
    uint64_t generation;
    bool have_principal;
    struct s_creds principal;
    uint8_t dek[EMU_CC_KEY_BYTES]; /* S_WRAP: the running DEK; S_UNWRAP: the result */
    bool ok;                       /* every region succeeded (and agree on the DEK) */
    bool key_gone;                 /* the first failure is a key KMS no longer has */
    char message[S_MSG_MAX];       /* the first failure */
    size_t n;
    struct s_region_job regions[EMU_CC_MAX_REGIONS];
};

static void s_job_destroy(struct s_job *job)
{
    if (job == NULL) {
        return;
    }
    for (size_t i = 0; i < job->n; i++) {
        struct s_region_job *r = &job->regions[i];
        free(r->wrapped);
        free(r->sealed);
        free(r->new_wrapped);
        free(r->new_sealed);
    }
    cmek_cleanse(job, sizeof(*job));
    free(job);
}

/* ---- one signed in-process request ---- */

/* POSTs body to service in region as c (aws_client.h); the response body goes into out. */
static int s_call(struct emu_app *app, const char *service, const char *region,
                  const struct s_creds *c, const char *content_type, const char *target,
                  const char *body, int *status, struct cmek_buf *out)
{
    struct cmek_sigv4_credentials creds = {c->akid, c->secret, c->token[0] ? c->token : NULL};
    struct emu_aws_client_call call = {
        .service = service,
        .region = region,
        .content_type = content_type,
        .target = target,
        .body = body,
        .credentials = &creds,
    };
    return emu_aws_client_post(app, &call, status, out);
}

/* The text of the first <tag> in xml, the five entities decoded; false when absent. */
static bool s_xml_text(const char *xml, const char *tag, char *out, size_t cap)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(xml, open);
    const char *b = a ? strstr(a + strlen(open), close) : NULL;
    if (b == NULL) {
        return false;
    }
    static const struct {
        const char *entity;
        char c;
    } entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    size_t o = 0;
    for (const char *p = a + strlen(open); p < b && o + 1 < cap; p++) {
        char ch = *p;
        for (size_t e = 0; e < sizeof(entities) / sizeof(entities[0]); e++) {
            size_t len = strlen(entities[e].entity);
            if (strncmp(p, entities[e].entity, len) == 0) {
                ch = entities[e].c;
                p += len - 1;
                break;
            }
        }
        out[o++] = ch;
    }
    out[o] = '\0';
    return true;
}

static void s_form_append(struct cmek_buf *form, const char *name, const char *value, int *rc)
{
    static const char hex[] = "0123456789ABCDEF";
    *rc = *rc ? *rc : cmek_buf_appendf(form, "&%s=", name);
    for (const unsigned char *p = (const unsigned char *)value; *rc == CMEK_OK && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *rc = cmek_buf_append_byte(form, (char)*p);
        } else {
            *rc = cmek_buf_appendf(form, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
        }
    }
}

/* AssumeRole of the region's role as CockroachDB Cloud's principal, ExternalId = org id. */
static int s_assume(struct emu_app *app, const struct s_job *job, struct s_region_job *r,
                    struct s_creds *session)
{
    struct cmek_buf form, body;
    cmek_buf_init(&form, 16384);
    cmek_buf_init(&body, EMU_MAX_RESPONSE_BYTES);
    char session_name[64];
    snprintf(session_name, sizeof(session_name), "crdb-cmek-%.36s", job->cluster_id);
    int status = 0;
    int rc = cmek_buf_append_str(&form, "Action=AssumeRole&Version=2011-06-15");
    s_form_append(&form, "RoleArn", r->principal, &rc);
    s_form_append(&form, "RoleSessionName", session_name, &rc);
    s_form_append(&form, "ExternalId", job->org_id, &rc);
    rc = rc ? rc
            : s_call(app, "sts", S_STS_REGION, &job->principal,
                     "application/x-www-form-urlencoded; charset=utf-8", NULL, cmek_buf_cstr(&form),
                     &status, &body);
    if (rc) {
        goto done;
    }
    const char *xml = cmek_buf_cstr(&body);
    memset(session, 0, sizeof(*session));
    if (status == 200 && s_xml_text(xml, "AccessKeyId", session->akid, sizeof(session->akid)) &&
        s_xml_text(xml, "SecretAccessKey", session->secret, sizeof(session->secret)) &&
        s_xml_text(xml, "SessionToken", session->token, sizeof(session->token))) {
        r->ok = true;
        goto done;
    }
    char code[128] = "", message[1024] = "";
    s_xml_text(xml, "Code", code, sizeof(code));
    s_xml_text(xml, "Message", message, sizeof(message));
    snprintf(r->message, sizeof(r->message),
             "sts:AssumeRole of %s with ExternalId %s failed: %s: %s", r->principal, job->org_id,
             code, message);
done:
    cmek_buf_clean_up(&form);
    if (body.data != NULL) {
        cmek_cleanse(body.data, body.len);
    }
    cmek_buf_clean_up(&body);
    return rc;
}

/* A KMS operation as session in region; *result gets the parsed answer on 200. */
static int s_kms(struct emu_app *app, const struct s_creds *session, struct s_region_job *r,
                 const char *op, json_t *in, json_t **result)
{
    *result = NULL;
    r->ok = false;
    char *text = in ? json_dumps(in, JSON_COMPACT) : NULL;
    json_decref(in);
    if (text == NULL) {
        return CMEK_ERR_NOMEM;
    }
    char target[64];
    snprintf(target, sizeof(target), "TrentService.%s", op);
    struct cmek_buf body;
    cmek_buf_init(&body, EMU_MAX_RESPONSE_BYTES);
    int status = 0;
    int rc = s_call(app, "kms", r->region, session, "application/x-amz-json-1.1", target, text,
                    &status, &body);
    free(text);
    json_t *out = rc ? NULL : json_loadb(body.data ? body.data : "", body.len, 0, NULL);
    if (rc == CMEK_OK && status == 200 && json_is_object(out)) {
        *result = out;
        out = NULL;
        r->ok = true;
    } else if (rc == CMEK_OK) {
        const char *type = json_string_value(json_object_get(out, "__type"));
        const char *message = json_string_value(json_object_get(out, "message"));
        if (message == NULL) {
            message = json_string_value(json_object_get(out, "Message"));
        }
        snprintf(r->message, sizeof(r->message), "kms:%s on %s as %s failed: %s: %s", op, r->uri,
                 r->principal, type ? type : "InternalFailure", message ? message : "");
    }
    json_decref(out);
    if (body.data != NULL) {
        cmek_cleanse(body.data, body.len);
    }
    cmek_buf_clean_up(&body);
    return rc;
}

static int s_b64_string(const void *bytes, size_t len, char **out)
{
    struct cmek_buf b;
    cmek_buf_init(&b, 16384);
    int rc = cmek_base64_encode(bytes, len, &b);
    *out = rc ? NULL : cmek_buf_steal(&b);
    cmek_buf_clean_up(&b);
    return rc;
}

static int s_store_aad(const struct s_job *job, const struct s_region_job *r, char *out, size_t cap)
{
    int n = snprintf(out, cap, "crdb-store|%s|%s", job->cluster_id, r->region);
    return n < 0 || (size_t)n >= cap ? CMEK_ERR_LIMIT : CMEK_OK;
}

/* GenerateDataKey on the region's key gives a new store key; the DEK is sealed under it. */
static int s_wrap_region(struct emu_app *app, struct s_job *job, struct s_region_job *r,
                         const struct s_creds *session)
{
    json_t *out = NULL;
    int rc = s_kms(app, session, r, "GenerateDataKey",
                   json_pack("{s:s,s:s}", "KeyId", r->uri, "KeySpec", "AES_256"), &out);
    if (rc || !r->ok) {
        return rc;
    }
    const char *plain = json_string_value(json_object_get(out, "Plaintext"));
    const char *blob = json_string_value(json_object_get(out, "CiphertextBlob"));
    struct cmek_buf key, sealed;
    cmek_buf_init(&key, 64);
    cmek_buf_init(&sealed, 256);
    char aad[EMU_CC_MAX_FIELD + 128];
    rc = plain && blob ? cmek_base64_decode(plain, strlen(plain), &key) : CMEK_ERR_PARSE;
    if (rc == CMEK_OK && key.len != EMU_CC_KEY_BYTES) {
        rc = CMEK_ERR_PARSE;
    }
    rc = rc ? rc : s_store_aad(job, r, aad, sizeof(aad));
    rc = rc ? rc : emu_cc_seal((const uint8_t *)key.data, aad, job->dek, sizeof(job->dek), &sealed);
    rc = rc ? rc : s_b64_string(sealed.data, sealed.len, &r->new_sealed);
    if (rc == CMEK_OK) {
        r->new_wrapped = strdup(blob);
        rc = r->new_wrapped ? CMEK_OK : CMEK_ERR_NOMEM;
    }
    if (key.data != NULL) {
        cmek_cleanse(key.data, key.len);
    }
    cmek_buf_clean_up(&key);
    cmek_buf_clean_up(&sealed);
    json_t *p = json_object_get(out, "Plaintext");
    if (p != NULL) {
        json_string_set(p, "");
    }
    json_decref(out);
    return rc;
}

/* Decrypt of the region's wrapped store key; the DEK is opened with it. */
static int s_unwrap_region(struct emu_app *app, struct s_job *job, struct s_region_job *r,
                           const struct s_creds *session)
{
    json_t *out = NULL;
    int rc = s_kms(app, session, r, "Decrypt",
                   json_pack("{s:s,s:s}", "CiphertextBlob", r->wrapped, "KeyId", r->uri), &out);
    if (rc || !r->ok) {
        /* The key did wrap this data key once: NotFound now means it was deleted (a key
         * pending deletion answers KMSInvalidStateException), and with it the data. */
        r->key_gone = rc == CMEK_OK && strstr(r->message, "failed: NotFoundException: ") != NULL;
        return rc;
    }
    const char *plain = json_string_value(json_object_get(out, "Plaintext"));
    struct cmek_buf key, sealed, dek;
    cmek_buf_init(&key, 64);
    cmek_buf_init(&sealed, 256);
    cmek_buf_init(&dek, 64);
    char aad[EMU_CC_MAX_FIELD + 128];
    rc = plain ? cmek_base64_decode(plain, strlen(plain), &key) : CMEK_ERR_PARSE;
    rc = rc ? rc : cmek_base64_decode(r->sealed, strlen(r->sealed), &sealed);
    if (rc == CMEK_OK && key.len != EMU_CC_KEY_BYTES) {
        rc = CMEK_ERR_PARSE;
    }
    rc = rc ? rc : s_store_aad(job, r, aad, sizeof(aad));
    if (rc == CMEK_OK &&
        (emu_cc_open((const uint8_t *)key.data, aad, sealed.data, sealed.len, &dek) != CMEK_OK ||
         dek.len != EMU_CC_KEY_BYTES)) {
        r->ok = false;
        snprintf(r->message, sizeof(r->message),
                 "the store key of region %s does not open the cluster's data key", r->region);
    } else if (rc == CMEK_OK) {
        memcpy(r->dek, dek.data, EMU_CC_KEY_BYTES);
    }
    if (key.data != NULL) {
        cmek_cleanse(key.data, key.len);
    }
    if (dek.data != NULL) {
        cmek_cleanse(dek.data, dek.len);
    }
    cmek_buf_clean_up(&key);
    cmek_buf_clean_up(&sealed);
    cmek_buf_clean_up(&dek);
    json_t *p = json_object_get(out, "Plaintext");
    if (p != NULL) {
        json_string_set(p, "");
    }
    json_decref(out);
    return rc;
}

/* With the lock released. */
static int s_run(struct emu_app *app, struct s_job *job)
{
    int rc = CMEK_OK;
    job->ok = true;
    for (size_t i = 0; rc == CMEK_OK && i < job->n; i++) {
        struct s_region_job *r = &job->regions[i];
        struct s_creds session;
        if (!job->have_principal) {
            snprintf(r->message, sizeof(r->message),
                     "CockroachDB Cloud has no active AWS access key in account of the cluster");
        } else {
            rc = s_assume(app, job, r, &session);
            if (rc == CMEK_OK && r->ok) {
                rc = job->kind == S_WRAP ? s_wrap_region(app, job, r, &session)
                                         : s_unwrap_region(app, job, r, &session);
            }
            cmek_cleanse(&session, sizeof(session));
        }
        if (rc == CMEK_OK && r->ok && job->kind == S_UNWRAP && i > 0 &&
            !cmek_consttime_eq(r->dek, sizeof(r->dek), job->dek, sizeof(job->dek))) {
            r->ok = false;
            char region[sizeof(r->region)];
            memcpy(region, r->region, sizeof(region)); /* gcc's -Wrestrict: one object */
            snprintf(r->message, sizeof(r->message),
                     "region %s holds another data key than the cluster's", region);
        }
        if (rc == CMEK_OK && r->ok && job->kind == S_UNWRAP && i == 0) {
            memcpy(job->dek, r->dek, sizeof(job->dek));
        }
        if (rc == CMEK_OK && !r->ok && job->ok) {
            job->ok = false;
            job->key_gone = r->key_gone;
            /* r lives inside job: copy by hand (gcc's -Wrestrict sees one object). */
            size_t len = strnlen(r->message, sizeof(job->message) - 1);
            memmove(job->message, r->message, len);
            job->message[len] = '\0';
        }
    }
    return rc;
}

/* ---- planning under the lock ---- */

static void s_find_principal(const struct emu_store *store, const struct emu_cc_cluster *c,
                             struct s_job *job)
{
    for (size_t i = 0; i < store->iam.access_keys.len; i++) {
        const struct emu_iam_access_key *k = store->iam.access_keys.items[i];
        if (k->active && strcmp(k->account, c->account_id) == 0) {
            snprintf(job->principal.akid, sizeof(job->principal.akid), "%s", k->id);
            snprintf(job->principal.secret, sizeof(job->principal.secret), "%s", k->secret);
            job->have_principal = true;
            return;
        }
    }
}

static struct s_job *s_job_new(const struct emu_store *store, const struct emu_cc_cluster *c,
                               enum s_kind kind)
{
    struct s_job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        return NULL;
    }
    job->kind = kind;
    job->generation = c->generation;
    snprintf(job->cluster_id, sizeof(job->cluster_id), "%s", c->id);
    snprintf(job->org_id, sizeof(job->org_id), "%s", c->org_id);
    s_find_principal(store, c, job);
    return job;
}

static void s_region_spec(struct s_region_job *rj, const struct emu_cc_region *r,
                          const struct emu_cc_key_info *k)
{
    snprintf(rj->region, sizeof(rj->region), "%s", r->name);
    snprintf(rj->uri, sizeof(rj->uri), "%s", k->uri);
    snprintf(rj->principal, sizeof(rj->principal), "%s", k->auth_principal);
}

/* The newest key_info of r that holds a wrapped store key: the one the cluster starts with. */
static struct emu_cc_key_info *s_in_use(const struct emu_cc_region *r)
{
    for (size_t i = r->key_infos.len; i > 0; i--) {
        struct emu_cc_key_info *k = r->key_infos.items[i - 1];
        if (k->wrapped_store_key != NULL && k->sealed_data_key != NULL) {
            return k;
        }
    }
    return NULL;
}

static bool s_transitional(enum emu_cc_status s)
{
    return s == EMU_CC_ENABLING || s == EMU_CC_ROTATING;
}

/* A job wrapping the DEK for every region whose newest key_info is ENABLING or ROTATING. */
static int s_plan_wrap(const struct emu_store *store, const struct emu_cc_cluster *c,
                       struct s_job **out)
{
    struct s_job *job = s_job_new(store, c, S_WRAP);
    if (job == NULL) {
        return CMEK_ERR_NOMEM;
    }
    memcpy(job->dek, c->dek, sizeof(job->dek));
    for (size_t i = 0; i < c->regions.len; i++) {
        const struct emu_cc_region *r = c->regions.items[i];
        const struct emu_cc_key_info *k = emu_cc_region_current(r);
        if (k != NULL && s_transitional(k->status)) {
            s_region_spec(&job->regions[job->n++], r, k);
        }
    }
    *out = job;
    return CMEK_OK;
}

/* A job unwrapping every CMEK region's store key. */
static int s_plan_unwrap(const struct emu_store *store, const struct emu_cc_cluster *c,
                         struct s_job **out)
{
    struct s_job *job = s_job_new(store, c, S_UNWRAP);
    if (job == NULL) {
        return CMEK_ERR_NOMEM;
    }
    for (size_t i = 0; i < c->regions.len; i++) {
        const struct emu_cc_region *r = c->regions.items[i];
        const struct emu_cc_key_info *k = s_in_use(r);
        if (k == NULL) {
            continue;
        }
        struct s_region_job *rj = &job->regions[job->n++];
        s_region_spec(rj, r, k);
        rj->wrapped = strdup(k->wrapped_store_key);
        rj->sealed = strdup(k->sealed_data_key);
        if (rj->wrapped == NULL || rj->sealed == NULL) {
            s_job_destroy(job);
            return CMEK_ERR_NOMEM;
        }
    }
    *out = job;
    return CMEK_OK;
}

static bool s_cmek_protected(const struct emu_cc_cluster *c)
{
    for (size_t i = 0; i < c->regions.len; i++) {
        if (s_in_use(c->regions.items[i]) != NULL) {
            return true;
        }
    }
    return false;
}

/* ---- committing under the lock ---- */

static int s_set_message(struct emu_cc_key_info *k, const char *message)
{
    char *copy = strdup(message);
    if (copy == NULL) {
        return CMEK_ERR_NOMEM;
    }
    free(k->user_message);
    k->user_message = copy;
    return CMEK_OK;
}

static const struct s_region_job *s_job_region(const struct s_job *job, const char *name)
{
    for (size_t i = 0; i < job->n; i++) {
        if (strcmp(job->regions[i].region, name) == 0) {
            return &job->regions[i];
        }
    }
    return NULL;
}

/* Enable, add-region and rotation outcomes. All regions of the job succeed together or the
 * wraps are dropped: a half-protected cluster is worse than a failed operation. */
static int s_commit_wrap(struct emu_cc_cluster *c, struct s_job *job, int64_t now)
{
    int rc = CMEK_OK;
    bool rotating = false;
    for (size_t i = 0; rc == CMEK_OK && i < c->regions.len; i++) {
        struct emu_cc_region *r = c->regions.items[i];
        struct emu_cc_key_info *k = emu_cc_region_current(r);
        struct s_region_job *rj = (struct s_region_job *)s_job_region(job, r->name);
        if (k == NULL || !s_transitional(k->status) || (rj == NULL && job->ok)) {
            continue;
        }
        bool rotation = k->status == EMU_CC_ROTATING;
        rotating = rotating || rotation;
        k->updated_s = now;
        if (!job->ok) {
            k->status = rotation ? EMU_CC_ROTATE_FAILED : EMU_CC_ENABLE_FAILED;
            r->status = k->status;
            if (rotation && s_in_use(r) != NULL) {
                /* The region keeps running on its previous key. */
                r->status = EMU_CC_ROTATE_FAILED;
            }
            char msg[S_MSG_MAX + 128];
            if (rj != NULL && rj->message[0] != '\0') {
                snprintf(msg, sizeof(msg), "%s", rj->message);
            } else {
                snprintf(msg, sizeof(msg), "not applied because another region failed: %s",
                         job->message);
            }
            rc = s_set_message(k, msg);
            continue;
        }
        /* Older key_infos of the region stop being used: their wraps go. */
        for (size_t j = 0; j + 1 < r->key_infos.len; j++) {
            struct emu_cc_key_info *old = r->key_infos.items[j];
            if (old->status == EMU_CC_ENABLED) {
                old->status = EMU_CC_DISABLED;
                old->updated_s = now;
            }
            free(old->wrapped_store_key);
            free(old->sealed_data_key);
            old->wrapped_store_key = NULL;
            old->sealed_data_key = NULL;
        }
        free(k->wrapped_store_key);
        free(k->sealed_data_key);
        k->wrapped_store_key = rj->new_wrapped;
        k->sealed_data_key = rj->new_sealed;
        rj->new_wrapped = NULL;
        rj->new_sealed = NULL;
        k->status = EMU_CC_ENABLED;
        r->status = EMU_CC_ENABLED;
        rc = s_set_message(k, "");
    }
    if (job->ok) {
        c->cmek_status = EMU_CC_ENABLED;
        /* The data key is now protected by the CMEK only. */
        c->has_managed_key = false;
        cmek_cleanse(c->managed_key, sizeof(c->managed_key));
    } else {
        c->cmek_status = rotating ? EMU_CC_ROTATE_FAILED : EMU_CC_ENABLE_FAILED;
    }
    return rc;
}

/* Every region that has a key in use goes to status (key_infos too), with message. */
static int s_mark_regions(struct emu_cc_cluster *c, enum emu_cc_status status, const char *message,
                          int64_t now)
{
    int rc = CMEK_OK;
    c->cmek_status = status;
    for (size_t i = 0; rc == CMEK_OK && i < c->regions.len; i++) {
        struct emu_cc_region *r = c->regions.items[i];
        struct emu_cc_key_info *k = s_in_use(r);
        if (k == NULL) {
            continue;
        }
        r->status = status;
        k->status = status;
        k->updated_s = now;
        rc = s_set_message(k, message);
    }
    return rc;
}

static void s_go_down(struct emu_cc_cluster *c)
{
    c->running = false;
    cmek_cleanse(c->dek, sizeof(c->dek));
}

static void s_go_up(struct emu_cc_cluster *c, const struct s_job *job)
{
    memcpy(c->dek, job->dek, sizeof(c->dek));
    c->running = true;
}

enum s_purpose { S_FOR_BOOT, S_FOR_REVOKE, S_FOR_RESTART, S_FOR_RESTORE };

/* The outcome of unwrapping. REVOKE: a usable key means the revocation did not take: the
 * cluster keeps running and says so (REVOKE_FAILED, README "Cloud API" table). */
static int s_commit_unwrap(struct emu_cc_cluster *c, const struct s_job *job,
                           enum s_purpose purpose, int64_t now)
{
    char msg[S_MSG_MAX + 256];
    int rc = CMEK_OK;
    if (job->ok) {
        s_go_up(c, job);
        rc = emu_cc_cluster_set_down(c, NULL);
        if (purpose == S_FOR_REVOKE) {
            rc = rc ? rc
                    : s_mark_regions(c, EMU_CC_REVOKE_FAILED,
                                     "revocation did not take effect: the cluster can still use "
                                     "the key (kms:Decrypt succeeded); remove CockroachDB "
                                     "Cloud's access in IAM or KMS first, then revoke again",
                                     now);
        } else if (purpose == S_FOR_RESTORE) {
            rc = rc ? rc : s_mark_regions(c, EMU_CC_ENABLED, "", now);
        }
        return rc;
    }
    s_go_down(c);
    snprintf(msg, sizeof(msg), "%s: %s%s",
             purpose == S_FOR_REVOKE    ? "CMEK access was revoked"
             : purpose == S_FOR_RESTORE ? "the cluster could not unwrap its data key"
                                        : "the cluster could not unwrap its data key at start",
             job->message,
             job->key_gone ? "; the key no longer exists, so the data encrypted under it is "
                             "lost for good"
                           : "");
    rc = emu_cc_cluster_set_down(c, msg);
    if (purpose != S_FOR_RESTORE) {
        rc = rc ? rc : s_mark_regions(c, EMU_CC_REVOKED, msg, now);
    }
    return rc;
}

/* ---- entry points ---- */

int emu_cc_settle(struct emu_app *app, const char *cluster_id)
{
    struct emu_store *store = app->store;
    struct s_job *job = NULL;
    enum s_purpose purpose = S_FOR_BOOT;
    int rc = CMEK_OK;
    emu_store_lock(store);
    struct emu_cc_cluster *c = emu_ccloud_cluster(&store->ccloud, cluster_id);
    if (c == NULL || c->deleted_s != 0 || c->pending_running) {
        goto unlock;
    }
    int64_t now = (int64_t)emu_store_now(app, store);
    if (c->pending == EMU_CC_PENDING_WRAP && !c->running) {
        /* Nothing to wrap with: fail the operation without AWS calls. */
        struct s_job failed;
        memset(&failed, 0, sizeof(failed));
        snprintf(failed.message, sizeof(failed.message),
                 "the cluster is not running with its data key: %s",
                 c->down_reason ? c->down_reason : "not started");
        c->pending = EMU_CC_PENDING_NONE;
        rc = s_commit_wrap(c, &failed, now);
        emu_cc_cluster_touch(c, now);
        goto unlock;
    }
    if (c->pending == EMU_CC_PENDING_WRAP) {
        rc = s_plan_wrap(store, c, &job);
    } else if (c->pending == EMU_CC_PENDING_REVOKE) {
        purpose = S_FOR_REVOKE;
        rc = s_plan_unwrap(store, c, &job);
    } else if (!c->started && c->cmek_status != EMU_CC_REVOKED && s_cmek_protected(c)) {
        rc = s_plan_unwrap(store, c, &job);
    } else {
        c->started = true;
        goto unlock;
    }
    if (rc) {
        goto unlock;
    }
    c->pending_running = true;
    emu_store_unlock(store);

    rc = s_run(app, job);

    emu_store_lock(store);
    c = emu_ccloud_cluster(&store->ccloud, cluster_id);
    if (c == NULL) {
        goto unlock;
    }
    c->pending_running = false;
    if (rc || c->generation != job->generation) {
        goto unlock; /* stale: the next request tries again */
    }
    now = (int64_t)emu_store_now(app, store);
    c->started = true;
    if (job->kind == S_WRAP) {
        rc = s_commit_wrap(c, job, now);
    } else {
        rc = s_commit_unwrap(c, job, purpose, now);
    }
    c->pending = EMU_CC_PENDING_NONE;
    emu_cc_cluster_touch(c, now);
    emu_log(app, EMU_LOG_INFO, "cluster %s: CMEK %s", c->id, emu_cc_status_name(c->cmek_status));
unlock:
    emu_store_unlock(store);
    s_job_destroy(job);
    return rc;
}

int emu_cc_start(struct emu_app *app, const char *cluster_id, enum emu_cc_start_mode mode,
                 bool *known, bool *ok, char *why, size_t cap)
{
    struct emu_store *store = app->store;
    struct s_job *job = NULL;
    int rc = CMEK_OK;
    *known = false;
    *ok = false;
    why[0] = '\0';
    emu_store_lock(store);
    struct emu_cc_cluster *c = emu_ccloud_cluster(&store->ccloud, cluster_id);
    if (c == NULL || c->deleted_s != 0) {
        goto unlock;
    }
    *known = true;
    if (c->pending_running || c->pending != EMU_CC_PENDING_NONE) {
        snprintf(why, cap,
                 "a CMEK operation is in progress on cluster '%s'; poll GET "
                 "/api/v1/clusters/%s/cmek until it settles",
                 c->id, c->id);
        goto unlock;
    }
    int64_t now = (int64_t)emu_store_now(app, store);
    if (mode == EMU_CC_START_RESTORE && c->cmek_status != EMU_CC_REVOKED) {
        snprintf(why, cap, "cluster '%s' is not revoked (CMEK status %s): nothing to restore",
                 c->id, emu_cc_status_name(c->cmek_status));
        goto unlock;
    }
    if (mode == EMU_CC_START_RESTART && c->cmek_status == EMU_CC_REVOKED) {
        snprintf(why, cap, "%s", c->down_reason ? c->down_reason : "CMEK access was revoked");
        goto unlock;
    }
    if (!s_cmek_protected(c)) {
        /* Cockroach Labs' own key: the restart needs nothing from the customer. */
        if (c->has_managed_key) {
            memcpy(c->dek, c->managed_key, sizeof(c->dek));
            c->running = true;
        }
        c->started = true;
        *ok = c->running;
        goto unlock;
    }
    if (mode == EMU_CC_START_RESTART) {
        s_go_down(c); /* the key in memory is gone with the process */
        emu_cc_cluster_touch(c, now);
    }
    rc = s_plan_unwrap(store, c, &job);
    if (rc) {
        goto unlock;
    }
    c->pending_running = true;
    emu_store_unlock(store);

    rc = s_run(app, job);

    emu_store_lock(store);
    c = emu_ccloud_cluster(&store->ccloud, cluster_id);
    if (c == NULL) {
        goto unlock;
    }
    c->pending_running = false;
    if (rc) {
        goto unlock;
    }
    if (c->generation != job->generation) {
        snprintf(why, cap, "cluster '%s' changed while it started; try again", c->id);
        goto unlock;
    }
    now = (int64_t)emu_store_now(app, store);
    c->started = true;
    rc = s_commit_unwrap(c, job, mode == EMU_CC_START_RESTORE ? S_FOR_RESTORE : S_FOR_RESTART, now);
    emu_cc_cluster_touch(c, now);
    *ok = job->ok;
    if (!job->ok) {
        snprintf(why, cap, "%s", c->down_reason ? c->down_reason : job->message);
    }
unlock:
    emu_store_unlock(store);
    s_job_destroy(job);
    return rc;
}
