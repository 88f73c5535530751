/* policy.c: the IAM policy language, parsed once and evaluated many times.
 *
 * Follows the IAM User Guide pages "IAM JSON policy elements reference", "IAM JSON policy
 * elements: Condition operators", "AWS JSON policy elements: Principal", "Policy evaluation
 * logic" and "Cross-account policy evaluation logic", and the KMS Developer Guide's "Key
 * policies in AWS KMS". A document is compiled at parse time into the arrays below (operator
 * enums, parsed numbers, dates and CIDRs), so evaluation never touches jansson, never
 * allocates and only reads the policy: it is safe from any number of threads.
 *
 * Deliberate differences from AWS are marked "DIFFERS" where they are made. */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmek/timeutil.h"

/* ==== MalformedPolicyDocument texts: the one table ====
 *
 * IAM's texts come from reports of real IAM responses (CreatePolicy, PutRolePolicy,
 * CreateRole) and from moto's validator, which was written against live IAM. KMS reuses the
 * IAM texts except where its own text is known. Texts marked UNCERTAIN were not seen in a
 * real response for that policy type. "%s" stands for the offending value(s). */
enum s_perr {
    S_E_NONE = 0,
    S_E_TOO_LARGE,
    S_E_INVALID_JSON,
    S_E_SYNTAX,
    S_E_PRINCIPAL_PROHIBITED,
    S_E_FIELD_PROHIBITED,
    S_E_VERSION,
    S_E_LEGACY,
    S_E_SID_DUPLICATE,
    S_E_NO_ACTIONS,
    S_E_NO_RESOURCES,
    S_E_NO_PRINCIPAL,
    S_E_RESOURCE_ARN,
    S_E_RESOURCE_PARTITION,
    S_E_RESOURCE_VENDOR,
    S_E_IAM_REGION,
    S_E_S3_REGION,
    S_E_IAM_PATH,
    S_E_ACTION_VENDOR,
    S_E_ACTION_COLON,
    S_E_VENDOR_INVALID,
    S_E_TRUST_ACTION,
    S_E_INVALID_PRINCIPAL,
    S_E_COUNT
};

struct s_perr_text {
    int rank;          /* when a document has several faults, the lowest rank is reported */
    const char *iam;   /* IAM identity policies (inline and managed) */
    const char *trust; /* IAM role trust policies; NULL: as iam */
    const char *kms;   /* KMS key policies; NULL: as iam */
};

static const struct s_perr_text s_perr_texts[S_E_COUNT] = {
    [S_E_NONE] = {99, "", NULL, NULL},
    /* UNCERTAIN: IAM's LimitExceeded wording with this engine's own cap; services enforce
     * their smaller quotas (IAM 2048/6144/10240 chars, KMS 32768 bytes) before parsing. */
    [S_E_TOO_LARGE] = {0, "Cannot exceed quota for PolicySize: 131072", NULL, NULL},
    /* CreatePolicy/PutUserPolicy answer "Syntax errors in policy." to text that is not JSON;
     * CreateRole answers "This policy contains invalid Json". KMS: UNCERTAIN. */
    [S_E_INVALID_JSON] = {1, "Syntax errors in policy.", "This policy contains invalid Json", NULL},
    [S_E_SYNTAX] = {2, "Syntax errors in policy.", NULL, NULL}, /* KMS: UNCERTAIN */
    [S_E_PRINCIPAL_PROHIBITED] = {3, "Policy document should not specify a principal.", NULL, NULL},
    /* "Has prohibited field Resource" is confirmed for CreateRole; NotResource: UNCERTAIN. */
    [S_E_FIELD_PROHIBITED] = {3, "Has prohibited field %s", NULL, NULL},
    [S_E_VERSION] = {4, "Policy document must be version 2012-10-17 or greater.", NULL, NULL},
    [S_E_LEGACY] = {5, "The policy failed legacy parsing", NULL, NULL}, /* KMS: UNCERTAIN */
    /* KMS rejects duplicate Sids too (Knowledge Center); its wording: UNCERTAIN. */
    [S_E_SID_DUPLICATE] = {6, "Statement IDs (SID) in a single policy must be unique.", NULL, NULL},
    [S_E_NO_ACTIONS] = {7, "Policy statement must contain actions.", NULL, NULL},
    [S_E_NO_RESOURCES] = {8, "Policy statement must contain resources.", NULL, NULL},
    /* UNCERTAIN for both: S3 says "Missing required field Principal"; KMS documents only that
     * every statement needs a principal. */
    [S_E_NO_PRINCIPAL] = {9, "Missing required field Principal", NULL,
                          "Policy contains a statement with one or more invalid principals."},
    [S_E_RESOURCE_ARN] = {10, "Resource %s must be in ARN format or \"*\".", NULL, NULL},
    [S_E_RESOURCE_PARTITION] = {10, "Partition \"%s\" is not valid for resource \"%s\".", NULL,
                                NULL},
    [S_E_RESOURCE_VENDOR] = {10,
                             "Resource vendor must be fully qualified and cannot contain regexes.",
                             NULL, NULL},
    [S_E_IAM_REGION] = {10, "IAM resource %s cannot contain region information.", NULL, NULL},
    [S_E_S3_REGION] = {10, "Resource %s can not contain region information.", NULL, NULL},
    [S_E_IAM_PATH] = {10,
                      "IAM resource path must either be \"*\" or start with user/, "
                      "federated-user/, role/, group/, instance-profile/, mfa/, "
                      "server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, "
                      "report/, access-report/.",
                      NULL, NULL},
    [S_E_ACTION_VENDOR] = {11,
                           "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, "
                           "ec2, etc.",
                           NULL, NULL},
    [S_E_ACTION_COLON] = {11, "Actions/Condition can contain only one colon.", NULL, NULL},
    [S_E_VENDOR_INVALID] = {11, "Vendor %s is not valid", NULL, NULL},
    /* Seen from CreateRole (LocalStack's AWS-validated text); which actions pass: UNCERTAIN. */
    [S_E_TRUST_ACTION] = {12, "AssumeRole policy may only specify STS AssumeRole actions.", NULL,
                          NULL},
    [S_E_INVALID_PRINCIPAL] = {13, "Invalid principal in policy: \"%s\":\"%s\"", NULL,
                               "Policy contains a statement with one or more invalid principals."},
};

/* ==== Compiled form ==== */

#define S_ARENA_BLOCK_BYTES 8192u
#define S_ARENA_FIRST_BYTES 512u
#define S_ERR_ARG_MAX       512

struct s_arena_block {
    struct s_arena_block *next;
    size_t used;
    size_t cap;
};

struct s_arena {
    struct s_arena_block *head;
};

struct s_strs {
    const char **v;
    size_t n;
};

enum s_pkind {
    S_PK_ANY,       /* "*" */
    S_PK_ACCOUNT,   /* 12 digits or arn:aws:iam::A:root */
    S_PK_USER,      /* arn:aws:iam::A:user/path/name */
    S_PK_ROLE,      /* arn:aws:iam::A:role/path/name */
    S_PK_SESSION,   /* arn:aws:sts::A:assumed-role/R/S */
    S_PK_UNIQUE_ID, /* AIDA..., AROA... */
    S_PK_FOREIGN,   /* Service, Federated, CanonicalUser, or invalid: matches none of ours */
};

struct s_principal {
    enum s_pkind kind;
    const char *type;     /* the Principal key: "AWS", "Service", ... */
    const char *value;    /* as written */
    char account[13];     /* ACCOUNT, USER, ROLE, SESSION */
    const char *bound_id; /* USER and ROLE with a resolver: the entity's unique id then */
};

enum s_vkind {
    S_V_STRING,
    S_V_STRING_IC,
    S_V_LIKE,
    S_V_NUM,
    S_V_DATE,
    S_V_BOOL,
    S_V_BINARY,
    S_V_IP,
    S_V_ARN,
    S_V_NULL,
};

enum s_cmp {
    S_CMP_EQ,
    S_CMP_LT,
    S_CMP_LE,
    S_CMP_GT,
    S_CMP_GE,
};

struct s_op {
    const char *name;
    enum s_vkind vkind;
    enum s_cmp cmp;
    bool negated; /* true when the key is absent; otherwise "no value matches" */
};

static const struct s_op s_ops[] = {
    {"StringEquals", S_V_STRING, S_CMP_EQ, false},
    {"StringNotEquals", S_V_STRING, S_CMP_EQ, true},
    {"StringEqualsIgnoreCase", S_V_STRING_IC, S_CMP_EQ, false},
    {"StringNotEqualsIgnoreCase", S_V_STRING_IC, S_CMP_EQ, true},
    {"StringLike", S_V_LIKE, S_CMP_EQ, false},
    {"StringNotLike", S_V_LIKE, S_CMP_EQ, true},
    {"NumericEquals", S_V_NUM, S_CMP_EQ, false},
    {"NumericNotEquals", S_V_NUM, S_CMP_EQ, true},
    {"NumericLessThan", S_V_NUM, S_CMP_LT, false},
    {"NumericLessThanEquals", S_V_NUM, S_CMP_LE, false},
    {"NumericGreaterThan", S_V_NUM, S_CMP_GT, false},
    {"NumericGreaterThanEquals", S_V_NUM, S_CMP_GE, false},
    {"DateEquals", S_V_DATE, S_CMP_EQ, false},
    {"DateNotEquals", S_V_DATE, S_CMP_EQ, true},
    {"DateLessThan", S_V_DATE, S_CMP_LT, false},
    {"DateLessThanEquals", S_V_DATE, S_CMP_LE, false},
    {"DateGreaterThan", S_V_DATE, S_CMP_GT, false},
    {"DateGreaterThanEquals", S_V_DATE, S_CMP_GE, false},
    {"Bool", S_V_BOOL, S_CMP_EQ, false},
    {"BinaryEquals", S_V_BINARY, S_CMP_EQ, false},
    {"IpAddress", S_V_IP, S_CMP_EQ, false},
    {"NotIpAddress", S_V_IP, S_CMP_EQ, true},
    {"ArnEquals", S_V_ARN, S_CMP_EQ, false},
    {"ArnLike", S_V_ARN, S_CMP_EQ, false},
    {"ArnNotEquals", S_V_ARN, S_CMP_EQ, true},
    {"ArnNotLike", S_V_ARN, S_CMP_EQ, true},
    {"Null", S_V_NULL, S_CMP_EQ, false},
};

enum s_set {
    S_SET_NONE,
    S_SET_ANY, /* ForAnyValue: */
    S_SET_ALL, /* ForAllValues: */
};

struct s_ip {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    unsigned prefix_bits;
};

struct s_cvalue {
    const char *str;
    bool valid; /* the typed form below parsed */
    union {
        double num;
        int64_t time;
        bool b;
        struct s_ip ip;
    } u;
};

struct s_cond {
    const struct s_op *op;
    enum s_set set;
    bool if_exists;
    const char *key;
    struct s_cvalue *values;
    size_t n_values;
};

struct s_statement {
    bool deny;
    bool inert; /* KMS accepts statements without Action or Resource; they never match */
    const char *sid;
    bool not_action;
    struct s_strs actions;
    bool has_resource;
    bool not_resource;
    struct s_strs resources;
    bool has_principal;
    bool not_principal;
    struct s_principal *principals;
    size_t n_principals;
    struct s_cond *conds;
    size_t n_conds;
};

struct s_binding {
    const char *arn;
    const char *unique_id;
};

struct emu_policy {
    enum emu_policy_kind kind;
    char *text; /* owned, NUL-terminated */
    size_t text_len;
    struct s_statement *stmts;
    size_t n_stmts;
    struct s_binding *bindings;
    size_t n_bindings;
    struct s_arena arena; /* owns everything the pointers above lead to, except text */
};

/* ==== Small helpers ==== */

static void *s_arena_alloc(struct s_arena *a, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    const size_t hdr = (sizeof(struct s_arena_block) + align - 1) & ~(align - 1);
    if (n > SIZE_MAX / 2) {
        return NULL;
    }
    size_t need = n == 0 ? align : (n + align - 1) & ~(align - 1);
    struct s_arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < need) {
        /* Blocks grow from S_ARENA_FIRST_BYTES up to S_ARENA_BLOCK_BYTES: a short policy
         * (every KMS key holds one) then costs hundreds of bytes, not a whole block. */
        size_t grow = b == NULL ? S_ARENA_FIRST_BYTES : b->cap * 2;
        grow = grow < S_ARENA_BLOCK_BYTES ? grow : S_ARENA_BLOCK_BYTES;
        size_t cap = need > grow ? need : grow;
        b = malloc(hdr + cap);
        if (b == NULL) {
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b + hdr + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

static void s_arena_clean_up(struct s_arena *a)
{
    struct s_arena_block *b = a->head;
    while (b != NULL) {
        struct s_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

static const char *s_arena_strndup(struct s_arena *a, const char *s, size_t len)
{
    char *p = s_arena_alloc(a, len + 1);
    if (p == NULL) {
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static const char *s_arena_strdup(struct s_arena *a, const char *s)
{
    return s_arena_strndup(a, s, strlen(s));
}

static char s_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool s_str_eq(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static bool s_is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Glob match of value against pattern: '*' any run (including '/' and ':'), '?' one
 * character. Iterative with one backtrack point, so linear memory and no recursion. */
static bool s_wild(const char *pat, size_t plen, const char *val, size_t vlen, bool ignore_case)
{
    size_t p = 0;
    size_t v = 0;
    size_t star_p = SIZE_MAX;
    size_t star_v = 0;
    while (v < vlen) {
        if (p < plen && pat[p] == '*') {
            star_p = p++;
            star_v = v;
        } else if (p < plen && (pat[p] == '?' || pat[p] == val[v] ||
                                (ignore_case && s_lower(pat[p]) == s_lower(val[v])))) {
            p++;
            v++;
        } else if (star_p != SIZE_MAX) {
            p = star_p + 1;
            v = ++star_v;
        } else {
            return false;
        }
    }
    while (p < plen && pat[p] == '*') {
        p++;
    }
    return p == plen;
}

bool emu_policy_wildcard_match(const char *pattern, const char *value, bool ignore_case)
{
    if (pattern == NULL || value == NULL) {
        return false;
    }
    return s_wild(pattern, strlen(pattern), value, strlen(value), ignore_case);
}

/* Bounded "%s" substitution: the table's texts are data, not printf formats. */
static void s_format_template(char *dst, size_t cap, const char *tmpl, const char *a1,
                              const char *a2)
{
    size_t n = 0;
    int used = 0;
    for (const char *t = tmpl; *t != '\0' && n + 1 < cap; t++) {
        if (t[0] == '%' && t[1] == 's') {
            const char *arg = used == 0 ? a1 : a2;
            used++;
            for (const char *s = arg != NULL ? arg : ""; *s != '\0' && n + 1 < cap; s++) {
                dst[n++] = *s;
            }
            t++;
            continue;
        }
        dst[n++] = *t;
    }
    dst[n] = '\0';
}

/* ==== Parsing ==== */

struct s_build {
    struct emu_policy *pol;
    enum s_perr code;
    char arg1[S_ERR_ARG_MAX];
    char arg2[S_ERR_ARG_MAX];
    bool resource_error_seen; /* IAM skips its legacy resource parse after a format fault */
};

static void s_copy_arg(char dst[S_ERR_ARG_MAX], const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= S_ERR_ARG_MAX) {
        n = S_ERR_ARG_MAX - 1;
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}

/* Records a fault; the first one of the lowest rank wins, as IAM checks in passes. */
static void s_fail(struct s_build *b, enum s_perr code, const char *a1, const char *a2)
{
    if (b->code != S_E_NONE && s_perr_texts[code].rank >= s_perr_texts[b->code].rank) {
        return;
    }
    b->code = code;
    s_copy_arg(b->arg1, a1);
    s_copy_arg(b->arg2, a2);
}

static void s_error_fill(const struct s_build *b, enum emu_policy_kind kind,
                         struct emu_policy_error *err)
{
    const struct s_perr_text *t = &s_perr_texts[b->code];
    const char *tmpl = t->iam;
    switch (kind) {
    case EMU_POLICY_TRUST:
        tmpl = t->trust != NULL ? t->trust : t->iam;
        break;
    case EMU_POLICY_RESOURCE:
        tmpl = t->kms != NULL ? t->kms : t->iam;
        break;
    case EMU_POLICY_IDENTITY:
    case EMU_POLICY_MANAGED:
    default:
        break;
    }
    s_format_template(err->message, sizeof(err->message), tmpl, b->arg1, b->arg2);
    err->invalid_principal = b->code == S_E_INVALID_PRINCIPAL;
}

/* String or array of strings -> list. false: wrong JSON type. */
static bool s_compile_strs(struct s_build *b, const json_t *v, struct s_strs *out, bool *nomem)
{
    size_t n = json_is_string(v) ? 1 : json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_string(v) && !json_is_array(v)) {
        return false;
    }
    for (size_t i = 0; json_is_array(v) && i < n; i++) {
        if (!json_is_string(json_array_get(v, i))) {
            return false;
        }
    }
    out->n = n;
    out->v = s_arena_alloc(&b->pol->arena, (n > 0 ? n : 1) * sizeof(*out->v));
    if (out->v == NULL) {
        *nomem = true;
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_is_string(v) ? v : json_array_get(v, i);
        out->v[i] = s_arena_strndup(&b->pol->arena, json_string_value(s), json_string_length(s));
        if (out->v[i] == NULL) {
            *nomem = true;
            return true;
        }
    }
    return true;
}

/* IAM's action checks, in the order moto found IAM applies them. */
static void s_check_action(struct s_build *b, const char *action)
{
    if (strcmp(action, "*") == 0) {
        return;
    }
    const char *colon = strchr(action, ':');
    if (colon == NULL) {
        s_fail(b, S_E_ACTION_VENDOR, NULL, NULL);
        return;
    }
    if (strchr(colon + 1, ':') != NULL) {
        s_fail(b, S_E_ACTION_COLON, NULL, NULL);
        return;
    }
    size_t vlen = (size_t)(colon - action);
    if (vlen == 1 && action[0] == '*') {
        return;
    }
    for (size_t i = 0; i < vlen; i++) {
        char c = action[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.';
        if (!ok) {
            char vendor[S_ERR_ARG_MAX];
            size_t n = vlen < sizeof(vendor) - 1 ? vlen : sizeof(vendor) - 1;
            memcpy(vendor, action, n);
            vendor[n] = '\0';
            s_fail(b, S_E_VENDOR_INVALID, vendor, NULL);
            return;
        }
    }
}

/* Splits s at ':' into at most max parts (the last keeps the rest). Returns the count. */
static size_t s_split_colon(const char *s, size_t len, struct cmek_view *parts, size_t max)
{
    size_t n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || (s[i] == ':' && n + 1 < max)) {
            parts[n].ptr = s + start;
            parts[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

/* Builds moto's rendering of a resource with a bad partition:
 * "arn:<p>:<a1>:<a2>:<a3>:<a4>" with "*" for missing parts. */
static void s_partition_text(const char *resource, char out[S_ERR_ARG_MAX],
                             char part[S_ERR_ARG_MAX])
{
    const char *rest = strchr(resource, ':') + 1;
    const char *pend = strchr(rest, ':');
    size_t plen = pend != NULL ? (size_t)(pend - rest) : strlen(rest);
    struct cmek_view parts[64];
    size_t n = 0;
    if (pend != NULL) {
        n = s_split_colon(pend + 1, strlen(pend + 1), parts, 64);
    }
    struct cmek_buf buf;
    cmek_buf_init(&buf, S_ERR_ARG_MAX - 1);
    struct cmek_view p = {rest, plen};
    int rc = cmek_buf_append_str(&buf, "arn:");
    rc = rc ? rc : cmek_buf_append_view(&buf, p);
    for (size_t i = 0; i < 4 && rc == CMEK_OK; i++) {
        rc = cmek_buf_append_byte(&buf, ':');
        bool have = i < n && (i > 0 || parts[0].len > 0 || n > 1);
        if (i == 3 && n > 3) {
            for (size_t j = 3; j < n && rc == CMEK_OK; j++) {
                rc = j > 3 ? cmek_buf_append_byte(&buf, ':') : CMEK_OK;
                rc = rc ? rc : cmek_buf_append_view(&buf, parts[j]);
            }
        } else if (have) {
            rc = cmek_buf_append_view(&buf, parts[i]);
        } else {
            rc = cmek_buf_append_byte(&buf, '*');
        }
    }
    s_copy_arg(out, cmek_buf_cstr(&buf));
    cmek_buf_clean_up(&buf);
    size_t m = plen < S_ERR_ARG_MAX - 1 ? plen : S_ERR_ARG_MAX - 1;
    memcpy(part, rest, m);
    part[m] = '\0';
}

/* IAM's Resource checks. Returns false when a format fault was found. */
static bool s_check_resource_format(struct s_build *b, const char *r)
{
    static const char *const iam_paths[] = {
        "user/",
        "federated-user/",
        "role/",
        "group/",
        "instance-profile/",
        "mfa/",
        "server-certificate/",
        "policy/",
        "sms-mfa/",
        "saml-provider/",
        "oidc-provider/",
        "report/",
        "access-report/",
    };
    if (strcmp(r, "*") == 0) {
        return true;
    }
    const char *c1 = strchr(r, ':');
    if (c1 == NULL) {
        s_fail(b, S_E_RESOURCE_ARN, r, NULL);
        return false;
    }
    const char *part = c1 + 1;
    const char *c2 = strchr(part, ':');
    size_t plen = c2 != NULL ? (size_t)(c2 - part) : strlen(part);
    if (plen != 3 || memcmp(part, "aws", 3) != 0) {
        char text[S_ERR_ARG_MAX];
        char partition[S_ERR_ARG_MAX];
        s_partition_text(r, text, partition);
        s_fail(b, S_E_RESOURCE_PARTITION, partition, text);
        return false;
    }
    if (c2 == NULL) {
        s_fail(b, S_E_RESOURCE_VENDOR, NULL, NULL);
        return false;
    }
    const char *service = c2 + 1;
    const char *c3 = strchr(service, ':');
    size_t slen = c3 != NULL ? (size_t)(c3 - service) : strlen(service);
    bool is_iam = slen == 3 && memcmp(service, "iam", 3) == 0;
    bool is_s3 = slen == 2 && memcmp(service, "s3", 2) == 0;
    const char *after = c3 != NULL ? c3 + 1 : "";
    if ((is_iam || is_s3) && after[0] != ':') {
        s_fail(b, is_iam ? S_E_IAM_REGION : S_E_S3_REGION, r, NULL);
        return false;
    }
    if (is_iam) {
        const char *acct = strchr(after, ':');
        const char *res = acct != NULL ? strchr(acct + 1, ':') : NULL;
        res = res != NULL ? res + 1 : "";
        bool ok = false;
        for (size_t i = 0; i < sizeof(iam_paths) / sizeof(iam_paths[0]); i++) {
            if (strncmp(res, iam_paths[i], strlen(iam_paths[i])) == 0) {
                ok = true;
            }
        }
        if (!ok) {
            s_fail(b, S_E_IAM_PATH, NULL, NULL);
            return false;
        }
    }
    return true;
}

/* IAM's "legacy" resource parse: an ARN-looking value with "::" needs all six parts, and
 * the service part may not be empty. */
static void s_check_resource_legacy(struct s_build *b, const char *r)
{
    if (strcmp(r, "*") == 0) {
        return;
    }
    size_t colons = 0;
    for (const char *p = r; *p != '\0'; p++) {
        colons += *p == ':';
    }
    struct cmek_view parts[4];
    size_t n = s_split_colon(r, strlen(r), parts, 4);
    bool service_empty = n < 3 || parts[2].len == 0;
    if ((colons < 5 && strstr(r, "::") != NULL) || service_empty) {
        s_fail(b, S_E_LEGACY, NULL, NULL);
    }
}

static bool s_valid_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

static bool s_valid_name(const char *s, size_t n, size_t min, size_t max)
{
    if (n < min || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!s_valid_name_char(s[i])) {
            return false;
        }
    }
    return true;
}

/* "/" or "/a/b/": printable ASCII without wildcards (principals take no wildcards). */
static bool s_valid_path(const char *s, size_t n)
{
    if (n == 0 || n > 512 || s[0] != '/' || s[n - 1] != '/') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '*' || s[i] == '?') {
            return false;
        }
    }
    return true;
}

/* Classifies one "AWS" principal value ("AWS JSON policy elements: Principal"). */
static enum s_pkind s_classify_aws(const char *v, char account[13], bool *valid)
{
    static const char iam_prefix[] = "arn:aws:iam::";
    static const char sts_prefix[] = "arn:aws:sts::";
    size_t len = strlen(v);
    *valid = true;
    account[0] = '\0';
    if (strcmp(v, "*") == 0) {
        return S_PK_ANY;
    }
    if (len == 12 && s_is_digits(v, 12)) {
        memcpy(account, v, 12);
        account[12] = '\0';
        return S_PK_ACCOUNT;
    }
    bool is_iam = strncmp(v, iam_prefix, sizeof(iam_prefix) - 1) == 0;
    bool is_sts = strncmp(v, sts_prefix, sizeof(sts_prefix) - 1) == 0;
    if (is_iam || is_sts) {
        const char *acct = v + sizeof(iam_prefix) - 1;
        if (strlen(acct) < 14 || !s_is_digits(acct, 12) || acct[12] != ':') {
            *valid = false;
            return S_PK_FOREIGN;
        }
        memcpy(account, acct, 12);
        account[12] = '\0';
        const char *rest = acct + 13;
        size_t rlen = strlen(rest);
        if (is_iam && strcmp(rest, "root") == 0) {
            return S_PK_ACCOUNT;
        }
        if (is_iam && (strncmp(rest, "user/", 5) == 0 || strncmp(rest, "role/", 5) == 0)) {
            const char *slash = strrchr(rest, '/');
            const char *path = rest + 4;
            size_t path_len = (size_t)(slash - path) + 1;
            size_t name_len = rlen - (size_t)(slash + 1 - rest);
            if (s_valid_path(path, path_len) && s_valid_name(slash + 1, name_len, 1, 64)) {
                return rest[0] == 'u' ? S_PK_USER : S_PK_ROLE;
            }
        }
        if (is_sts && strncmp(rest, "assumed-role/", 13) == 0) {
            const char *role = rest + 13;
            const char *slash = strchr(role, '/');
            if (slash != NULL && s_valid_name(role, (size_t)(slash - role), 1, 64) &&
                s_valid_name(slash + 1, strlen(slash + 1), 2, 64)) {
                return S_PK_SESSION;
            }
        }
        *valid = false;
        return S_PK_FOREIGN;
    }
    /* A bare unique id is what IAM shows for a deleted entity; AIDA user, AROA role. */
    if (len >= 16 && len <= 64 && (strncmp(v, "AIDA", 4) == 0 || strncmp(v, "AROA", 4) == 0)) {
        bool ok = true;
        for (size_t i = 4; i < len; i++) {
            ok = ok && ((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9'));
        }
        if (ok) {
            return S_PK_UNIQUE_ID;
        }
    }
    *valid = false;
    return S_PK_FOREIGN;
}

static void s_compile_principal(struct s_build *b, const json_t *v, struct s_statement *st,
                                bool *nomem)
{
    static const char *const types[] = {"AWS", "Service", "Federated", "CanonicalUser"};
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") != 0) {
            s_fail(b, S_E_SYNTAX, NULL, NULL);
            return;
        }
        st->principals = s_arena_alloc(&b->pol->arena, sizeof(*st->principals));
        if (st->principals == NULL) {
            *nomem = true;
            return;
        }
        st->n_principals = 1;
        st->principals[0].kind = S_PK_ANY;
        st->principals[0].type = "AWS";
        st->principals[0].value = "*";
        return;
    }
    if (!json_is_object(v) || json_object_size(v) == 0) {
        s_fail(b, S_E_SYNTAX, NULL, NULL);
        return;
    }
    size_t total = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
            known = known || strcmp(key, types[i]) == 0;
        }
        bool shape_ok = json_is_string(val) || (json_is_array(val) && json_array_size(val) > 0);
        if (!known || !shape_ok) {
            s_fail(b, S_E_SYNTAX, NULL, NULL);
            return;
        }
        total += json_is_string(val) ? 1 : json_array_size(val);
    }
    st->principals = s_arena_alloc(&b->pol->arena, total * sizeof(*st->principals));
    if (st->principals == NULL) {
        *nomem = true;
        return;
    }
    json_object_foreach((json_t *)v, key, val)
    {
        struct s_strs list;
        if (!s_compile_strs(b, val, &list, nomem)) {
            s_fail(b, S_E_SYNTAX, NULL, NULL);
            return;
        }
        if (*nomem) {
            return;
        }
        const char *type = s_arena_strdup(&b->pol->arena, key);
        if (type == NULL) {
            *nomem = true;
            return;
        }
        for (size_t i = 0; i < list.n; i++) {
            struct s_principal *p = &st->principals[st->n_principals++];
            p->type = type;
            p->value = list.v[i];
            p->kind = S_PK_FOREIGN;
            bool valid = list.v[i][0] != '\0';
            if (strcmp(key, "AWS") == 0) {
                p->kind = s_classify_aws(list.v[i], p->account, &valid);
            }
            if (!valid) {
                s_fail(b, S_E_INVALID_PRINCIPAL, key, list.v[i]);
            }
        }
    }
}

static bool s_parse_bool(const char *s, bool *out)
{
    if (strcasecmp(s, "true") == 0) {
        *out = true;
        return true;
    }
    if (strcasecmp(s, "false") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* Decimal numbers only: strtod alone would also take hex, "inf" and "nan". */
static bool s_parse_num(const char *s, double *out)
{
    if (s[0] == '\0') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        bool ok = (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '+' || *p == 'e' ||
                  *p == 'E';
        if (!ok) {
            return false;
        }
    }
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d)) {
        return false;
    }
    *out = d;
    return true;
}

/* Dates as the Condition operators page allows: ISO 8601 (RFC 3339 with seconds and zone,
 * or a bare date) or epoch seconds. */
static bool s_parse_date(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n > 0 && n <= 19 && s_is_digits(s, n)) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE || *end != '\0') {
            return false;
        }
        *out = (int64_t)v;
        return true;
    }
    time_t t;
    if (n == 10) {
        char full[32];
        memcpy(full, s, 10);
        memcpy(full + 10, "T00:00:00Z", 11);
        if (cmek_time_parse_rfc3339(full, 20, &t) != CMEK_OK) {
            return false;
        }
        *out = (int64_t)t;
        return true;
    }
    if (cmek_time_parse_rfc3339(s, n, &t) != CMEK_OK) {
        return false;
    }
    *out = (int64_t)t;
    return true;
}

static bool s_parse_ip(const char *s, bool cidr, struct s_ip *out)
{
    char addr[64];
    const char *slash = cidr ? strchr(s, '/') : NULL;
    size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof(addr)) {
        return false;
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, addr, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix_bits = 32;
    } else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix_bits = 128;
    } else {
        return false;
    }
    if (slash != NULL) {
        size_t dlen = strlen(slash + 1);
        if (dlen == 0 || dlen > 3 || !s_is_digits(slash + 1, dlen)) {
            return false;
        }
        long bits = strtol(slash + 1, NULL, 10);
        if (bits > (long)out->prefix_bits) {
            return false;
        }
        out->prefix_bits = (unsigned)bits;
    }
    return true;
}

/* JSON scalar -> string, as IAM treats {"Bool": {"k": true}} like {"Bool": {"k": "true"}}. */
static const char *s_scalar_text(struct s_build *b, const json_t *v, bool *type_ok)
{
    char num[64];
    *type_ok = true;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return s_arena_strndup(&b->pol->arena, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return s_arena_strdup(&b->pol->arena, num);
    case JSON_REAL: {
        /* The shortest text that reads back as the same double. */
        double d = json_real_value(v);
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(num, sizeof(num), "%.*g", prec, d);
            if (strtod(num, NULL) == d) {
                break;
            }
        }
        return s_arena_strdup(&b->pol->arena, num);
    }
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
    case JSON_OBJECT:
    case JSON_ARRAY:
    default:
        *type_ok = false;
        return NULL;
    }
}

/* "ForAnyValue:StringLikeIfExists" -> op, set, if_exists. NULL: unknown operator. */
static const struct s_op *s_lookup_op(const char *name, enum s_set *set, bool *if_exists)
{
    *set = S_SET_NONE;
    *if_exists = false;
    if (strncmp(name, "ForAnyValue:", 12) == 0) {
        *set = S_SET_ANY;
        name += 12;
    } else if (strncmp(name, "ForAllValues:", 13) == 0) {
        *set = S_SET_ALL;
        name += 13;
    }
    size_t n = strlen(name);
    if (n > 8 && strcmp(name + n - 8, "IfExists") == 0) {
        *if_exists = true;
        n -= 8;
    }
    for (size_t i = 0; i < sizeof(s_ops) / sizeof(s_ops[0]); i++) {
        if (strlen(s_ops[i].name) == n && strncmp(s_ops[i].name, name, n) == 0) {
            /* "Null" takes no IfExists and no set qualifier (Condition operators page). */
            if (s_ops[i].vkind == S_V_NULL && (*if_exists || *set != S_SET_NONE)) {
                return NULL;
            }
            return &s_ops[i];
        }
    }
    return NULL;
}

static void s_compile_value(struct s_build *b, const struct s_op *op, struct s_cvalue *cv)
{
    switch (op->vkind) {
    case S_V_NUM:
        cv->valid = s_parse_num(cv->str, &cv->u.num);
        break;
    case S_V_DATE:
        cv->valid = s_parse_date(cv->str, &cv->u.time);
        if (!cv->valid) {
            s_fail(b, S_E_LEGACY, NULL, NULL); /* IAM rejects a date it cannot read */
        }
        break;
    case S_V_BOOL:
    case S_V_NULL:
        cv->valid = s_parse_bool(cv->str, &cv->u.b);
        break;
    case S_V_IP:
        cv->valid = s_parse_ip(cv->str, true, &cv->u.ip);
        break;
    case S_V_STRING:
    case S_V_STRING_IC:
    case S_V_LIKE:
    case S_V_BINARY:
    case S_V_ARN:
    default:
        cv->valid = true;
        break;
    }
}

static void s_compile_condition(struct s_build *b, const json_t *cond, struct s_statement *st,
                                bool *nomem)
{
    if (!json_is_object(cond)) {
        s_fail(b, S_E_SYNTAX, NULL, NULL);
        return;
    }
    size_t total = 0;
    const char *opname;
    json_t *block;
    json_object_foreach((json_t *)cond, opname, block)
    {
        if (!json_is_object(block)) {
            s_fail(b, S_E_SYNTAX, NULL, NULL);
            return;
        }
        enum s_set set;
        bool if_exists;
        /* IAM accepts an unknown operator only with an empty block (moto's finding). */
        if (s_lookup_op(opname, &set, &if_exists) == NULL && json_object_size(block) > 0) {
            s_fail(b, S_E_SYNTAX, NULL, NULL);
            return;
        }
        total += json_object_size(block);
    }
    st->conds = s_arena_alloc(&b->pol->arena, total * sizeof(*st->conds));
    if (st->conds == NULL) {
        *nomem = true;
        return;
    }
    json_object_foreach((json_t *)cond, opname, block)
    {
        enum s_set set;
        bool if_exists;
        const struct s_op *op = s_lookup_op(opname, &set, &if_exists);
        const char *key;
        json_t *vals;
        json_object_foreach(block, key, vals)
        {
            struct s_cond *c = &st->conds[st->n_conds++];
            c->op = op;
            c->set = set;
            c->if_exists = if_exists;
            c->key = s_arena_strdup(&b->pol->arena, key);
            size_t n = json_is_array(vals) ? json_array_size(vals) : 1;
            c->values = s_arena_alloc(&b->pol->arena, (n > 0 ? n : 1) * sizeof(*c->values));
            if (c->key == NULL || c->values == NULL) {
                *nomem = true;
                return;
            }
            c->n_values = n;
            for (size_t i = 0; i < n; i++) {
                const json_t *v = json_is_array(vals) ? json_array_get(vals, i) : vals;
                bool type_ok;
                c->values[i].str = s_scalar_text(b, v, &type_ok);
                if (!type_ok) {
                    s_fail(b, S_E_SYNTAX, NULL, NULL);
                    return;
                }
                if (c->values[i].str == NULL) {
                    *nomem = true;
                    return;
                }
                s_compile_value(b, op, &c->values[i]);
            }
        }
    }
}

static bool s_is_sts_action(const char *a)
{
    return strcmp(a, "*") == 0 || strncasecmp(a, "sts:", 4) == 0;
}

/* One statement ("IAM JSON policy elements reference"); faults go to b, never stop early
 * unless the statement cannot be read further. */
static void s_compile_statement(struct s_build *b, const json_t *obj, struct s_statement *st,
                                bool *nomem)
{
    static const char *const fields[] = {"Sid",       "Effect",       "Action",
                                         "NotAction", "Resource",     "NotResource",
                                         "Principal", "NotPrincipal", "Condition"};
    enum emu_policy_kind kind = b->pol->kind;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            known = known || strcmp(key, fields[i]) == 0;
        }
        if (!known) {
            s_fail(b, S_E_SYNTAX, NULL, NULL);
            return;
        }
    }
    const json_t *sid = json_object_get(obj, "Sid");
    const json_t *effect = json_object_get(obj, "Effect");
    const json_t *action = json_object_get(obj, "Action");
    const json_t *not_action = json_object_get(obj, "NotAction");
    const json_t *resource = json_object_get(obj, "Resource");
    const json_t *not_resource = json_object_get(obj, "NotResource");
    const json_t *principal = json_object_get(obj, "Principal");
    const json_t *not_principal = json_object_get(obj, "NotPrincipal");
    const json_t *condition = json_object_get(obj, "Condition");

    if ((sid != NULL && !json_is_string(sid)) || effect == NULL || !json_is_string(effect) ||
        (action != NULL && not_action != NULL) || (resource != NULL && not_resource != NULL) ||
        (principal != NULL && not_principal != NULL)) {
        s_fail(b, S_E_SYNTAX, NULL, NULL);
        return;
    }
    const char *eff = json_string_value(effect);
    if (strcasecmp(eff, "Allow") != 0 && strcasecmp(eff, "Deny") != 0) {
        s_fail(b, S_E_SYNTAX, NULL, NULL);
        return;
    }
    if (strcmp(eff, "Allow") != 0 && strcmp(eff, "Deny") != 0) {
        s_fail(b, S_E_LEGACY, NULL, NULL); /* "allow": IAM's second parser is case-sensitive */
    }
    st->deny = strcasecmp(eff, "Deny") == 0;
    if (sid != NULL) {
        st->sid = s_arena_strdup(&b->pol->arena, json_string_value(sid));
        if (st->sid == NULL) {
            *nomem = true;
            return;
        }
    }
    const json_t *acts = action != NULL ? action : not_action;
    st->not_action = not_action != NULL;
    if (acts != NULL && !s_compile_strs(b, acts, &st->actions, nomem)) {
        s_fail(b, S_E_SYNTAX, NULL, NULL);
        return;
    }
    const json_t *res = resource != NULL ? resource : not_resource;
    st->has_resource = res != NULL;
    st->not_resource = not_resource != NULL;
    if (res != NULL && !s_compile_strs(b, res, &st->resources, nomem)) {
        s_fail(b, S_E_SYNTAX, NULL, NULL);
        return;
    }
    const json_t *prin = principal != NULL ? principal : not_principal;
    st->has_principal = prin != NULL;
    st->not_principal = not_principal != NULL;
    if (*nomem) {
        return;
    }
    if (prin != NULL) {
        s_compile_principal(b, prin, st, nomem);
    }
    if (condition != NULL && !*nomem) {
        s_compile_condition(b, condition, st, nomem);
    }
    if (*nomem) {
        return;
    }

    /* Which elements each policy type needs or forbids. */
    switch (kind) {
    case EMU_POLICY_IDENTITY:
    case EMU_POLICY_MANAGED:
        if (prin != NULL) {
            s_fail(b, S_E_PRINCIPAL_PROHIBITED, NULL, NULL);
        }
        break;
    case EMU_POLICY_TRUST:
        if (res != NULL) {
            s_fail(b, S_E_FIELD_PROHIBITED, resource != NULL ? "Resource" : "NotResource", NULL);
        }
        if (prin == NULL) {
            s_fail(b, S_E_NO_PRINCIPAL, NULL, NULL);
        }
        break;
    case EMU_POLICY_RESOURCE:
        if (prin == NULL) {
            s_fail(b, S_E_NO_PRINCIPAL, NULL, NULL);
        }
        break;
    default:
        break;
    }
    bool no_actions = acts == NULL || st->actions.n == 0;
    bool no_resources = res == NULL || st->resources.n == 0;
    if (kind == EMU_POLICY_RESOURCE) {
        /* KMS: "the PutKeyPolicy API request succeeds, even though the policy statement is
         * ineffective". */
        st->inert = no_actions || no_resources;
    } else {
        if (no_actions) {
            s_fail(b, S_E_NO_ACTIONS, NULL, NULL);
        }
        if (no_resources && kind != EMU_POLICY_TRUST) {
            s_fail(b, S_E_NO_RESOURCES, NULL, NULL);
        }
    }
    if (res != NULL) {
        /* IAM reports the last format fault in reverse-sorted order (moto's finding). */
        const char *worst = NULL;
        for (size_t i = 0; i < st->resources.n; i++) {
            struct s_build probe = {.pol = b->pol};
            if (!s_check_resource_format(&probe, st->resources.v[i]) &&
                (worst == NULL || strcmp(st->resources.v[i], worst) > 0)) {
                worst = st->resources.v[i];
            }
        }
        if (worst != NULL) {
            (void)s_check_resource_format(b, worst);
            b->resource_error_seen = true;
        } else if (!b->resource_error_seen) {
            for (size_t i = 0; i < st->resources.n; i++) {
                s_check_resource_legacy(b, st->resources.v[i]);
            }
        }
    }
    for (size_t i = 0; i < st->actions.n; i++) {
        s_check_action(b, st->actions.v[i]);
        if (kind == EMU_POLICY_TRUST && !st->not_action && !s_is_sts_action(st->actions.v[i])) {
            s_fail(b, S_E_TRUST_ACTION, NULL, NULL);
        }
    }
}

static int s_compile(struct s_build *b, const json_t *root)
{
    struct emu_policy *pol = b->pol;
    bool nomem = false;
    if (!json_is_object(root)) {
        s_fail(b, S_E_SYNTAX, NULL, NULL);
        return CMEK_OK;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)root, key, val)
    {
        if (strcmp(key, "Version") != 0 && strcmp(key, "Id") != 0 &&
            strcmp(key, "Statement") != 0) {
            s_fail(b, S_E_SYNTAX, NULL, NULL);
            return CMEK_OK;
        }
    }
    const json_t *version = json_object_get(root, "Version");
    const json_t *id = json_object_get(root, "Id");
    const json_t *statement = json_object_get(root, "Statement");
    const char *ver = json_string_value(version);
    if ((version != NULL &&
         (ver == NULL || (strcmp(ver, "2012-10-17") != 0 && strcmp(ver, "2008-10-17") != 0))) ||
        (id != NULL && !json_is_string(id)) || statement == NULL ||
        (!json_is_object(statement) && !json_is_array(statement)) ||
        (json_is_array(statement) && json_array_size(statement) == 0)) {
        s_fail(b, S_E_SYNTAX, NULL, NULL);
        return CMEK_OK;
    }
    /* Only CreatePolicy and CreatePolicyVersion insist on the current language version. */
    if (pol->kind == EMU_POLICY_MANAGED && (ver == NULL || strcmp(ver, "2012-10-17") != 0)) {
        s_fail(b, S_E_VERSION, NULL, NULL);
    }
    size_t n = json_is_array(statement) ? json_array_size(statement) : 1;
    pol->stmts = s_arena_alloc(&pol->arena, n * sizeof(*pol->stmts));
    if (pol->stmts == NULL) {
        return CMEK_ERR_NOMEM;
    }
    pol->n_stmts = n;
    for (size_t i = 0; i < n && !nomem; i++) {
        const json_t *obj = json_is_array(statement) ? json_array_get(statement, i) : statement;
        if (!json_is_object(obj)) {
            s_fail(b, S_E_SYNTAX, NULL, NULL);
            continue;
        }
        s_compile_statement(b, obj, &pol->stmts[i], &nomem);
    }
    if (nomem) {
        return CMEK_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++) {
            const char *a = pol->stmts[i].sid;
            if (a != NULL && a[0] != '\0' && s_str_eq(a, pol->stmts[j].sid)) {
                s_fail(b, S_E_SID_DUPLICATE, NULL, NULL);
            }
        }
    }
    return CMEK_OK;
}

/* The ARN the resolver is asked about for a principal, or NULL when none is. */
static const char *s_resolve_target(const struct s_principal *p, char buf[64])
{
    switch (p->kind) {
    case S_PK_ACCOUNT:
        snprintf(buf, 64, "arn:aws:iam::%s:root", p->account);
        return buf;
    case S_PK_USER:
    case S_PK_ROLE:
    case S_PK_SESSION:
    case S_PK_UNIQUE_ID:
        return p->value;
    case S_PK_ANY:
    case S_PK_FOREIGN:
    default:
        return NULL;
    }
}

static int s_call_resolver(const struct emu_principal_resolver *r, const char *arn,
                           char id[EMU_UNIQUE_ID_MAX])
{
    memset(id, 0, EMU_UNIQUE_ID_MAX);
    int rc = r->resolve(r->ctx, arn, id);
    id[EMU_UNIQUE_ID_MAX - 1] = '\0';
    return rc;
}

/* Every named principal must exist ("Key policies in AWS KMS", "IAM role trust policy
 * error: Invalid principal in policy"); users and roles are bound to their unique id. */
static int s_resolve_principals(struct s_build *b, const struct emu_principal_resolver *r)
{
    struct emu_policy *pol = b->pol;
    for (size_t i = 0; i < pol->n_stmts; i++) {
        struct s_statement *st = &pol->stmts[i];
        for (size_t j = 0; j < st->n_principals; j++) {
            struct s_principal *p = &st->principals[j];
            char buf[64];
            const char *target = s_resolve_target(p, buf);
            if (target == NULL) {
                continue;
            }
            char id[EMU_UNIQUE_ID_MAX];
            int rc = s_call_resolver(r, target, id);
            if (rc == CMEK_ERR_NOT_FOUND) {
                s_fail(b, S_E_INVALID_PRINCIPAL, p->type, p->value);
                return CMEK_OK;
            }
            if (rc) {
                return rc;
            }
            /* DIFFERS (undocumented in AWS): session principals are checked, not bound. */
            if (p->kind == S_PK_USER || p->kind == S_PK_ROLE) {
                p->bound_id = s_arena_strdup(&pol->arena, id);
                if (p->bound_id == NULL) {
                    return CMEK_ERR_NOMEM;
                }
            }
        }
    }
    return CMEK_OK;
}

/* The distinct ARN -> unique id pairs, for to_json and render. */
static int s_collect_bindings(struct emu_policy *pol)
{
    size_t total = 0;
    for (size_t i = 0; i < pol->n_stmts; i++) {
        total += pol->stmts[i].n_principals;
    }
    pol->bindings = s_arena_alloc(&pol->arena, total * sizeof(*pol->bindings));
    if (pol->bindings == NULL) {
        return CMEK_ERR_NOMEM;
    }
    for (size_t i = 0; i < pol->n_stmts; i++) {
        const struct s_statement *st = &pol->stmts[i];
        for (size_t j = 0; j < st->n_principals; j++) {
            const struct s_principal *p = &st->principals[j];
            if (p->bound_id == NULL) {
                continue;
            }
            bool seen = false;
            for (size_t k = 0; k < pol->n_bindings; k++) {
                seen = seen || strcmp(pol->bindings[k].arn, p->value) == 0;
            }
            if (!seen) {
                pol->bindings[pol->n_bindings].arn = p->value;
                pol->bindings[pol->n_bindings].unique_id = p->bound_id;
                pol->n_bindings++;
            }
        }
    }
    return CMEK_OK;
}

static bool s_kind_valid(enum emu_policy_kind kind)
{
    switch (kind) {
    case EMU_POLICY_IDENTITY:
    case EMU_POLICY_TRUST:
    case EMU_POLICY_RESOURCE:
    case EMU_POLICY_MANAGED:
        return true;
    default:
        return false;
    }
}

int emu_policy_parse(const char *text, size_t len, enum emu_policy_kind kind,
                     const struct emu_principal_resolver *resolver, struct emu_policy **out,
                     struct emu_policy_error *err)
{
    struct emu_policy_error scratch;
    if (err == NULL) {
        err = &scratch;
    }
    err->invalid_principal = false;
    err->message[0] = '\0';
    if (out == NULL || text == NULL || !s_kind_valid(kind) ||
        (resolver != NULL && resolver->resolve == NULL)) {
        return CMEK_ERR_INVALID_ARG;
    }
    *out = NULL;
    int rc = CMEK_OK;
    json_t *root = NULL;
    struct s_build b = {0};
    struct emu_policy *pol = calloc(1, sizeof(*pol));
    if (pol == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    pol->kind = kind;
    b.pol = pol;
    if (len > EMU_POLICY_MAX_BYTES) {
        s_fail(&b, S_E_TOO_LARGE, NULL, NULL);
        rc = CMEK_ERR_LIMIT;
        goto done;
    }
    pol->text = malloc(len + 1);
    if (pol->text == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    memcpy(pol->text, text, len);
    pol->text[len] = '\0';
    pol->text_len = len;
    json_error_t jerr;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        s_fail(&b, S_E_INVALID_JSON, NULL, NULL);
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    rc = s_compile(&b, root);
    if (rc) {
        goto done;
    }
    if (b.code == S_E_NONE && resolver != NULL) {
        rc = s_resolve_principals(&b, resolver);
        if (rc) {
            goto done;
        }
    }
    if (b.code != S_E_NONE) {
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    rc = s_collect_bindings(pol);
    if (rc) {
        goto done;
    }
    *out = pol;
    pol = NULL;
done:
    if (b.code != S_E_NONE) {
        s_error_fill(&b, kind, err);
    } else if (rc) {
        s_format_template(err->message, sizeof(err->message), cmek_error_str(rc), NULL, NULL);
    }
    json_decref(root);
    emu_policy_destroy(pol);
    return rc;
}

void emu_policy_destroy(struct emu_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    s_arena_clean_up(&policy->arena);
    free(policy->text);
    free(policy);
}

const char *emu_policy_text(const struct emu_policy *policy)
{
    return policy != NULL ? policy->text : "";
}

json_t *emu_policy_to_json(const struct emu_policy *policy)
{
    json_t *out = NULL;
    json_t *bindings = NULL;
    json_t *result = NULL;
    if (policy == NULL) {
        goto done;
    }
    out = json_object();
    bindings = json_object();
    if (out == NULL || bindings == NULL) {
        goto done;
    }
    for (size_t i = 0; i < policy->n_bindings; i++) {
        if (json_object_set_new(bindings, policy->bindings[i].arn,
                                json_string(policy->bindings[i].unique_id)) != 0) {
            goto done;
        }
    }
    if (json_object_set_new(out, "document", json_stringn(policy->text, policy->text_len)) != 0) {
        goto done;
    }
    int rc = json_object_set_new(out, "bindings", bindings);
    bindings = NULL; /* stolen even on failure */
    if (rc != 0) {
        goto done;
    }
    result = out;
    out = NULL;
done:
    json_decref(bindings);
    json_decref(out);
    return result;
}

int emu_policy_from_json(const json_t *stored, enum emu_policy_kind kind, struct emu_policy **out)
{
    if (out == NULL) {
        return CMEK_ERR_INVALID_ARG;
    }
    *out = NULL;
    const json_t *doc = json_object_get(stored, "document");
    const json_t *bindings = json_object_get(stored, "bindings");
    if (!json_is_string(doc) || (bindings != NULL && !json_is_object(bindings))) {
        return CMEK_ERR_PARSE;
    }
    struct emu_policy *pol = NULL;
    struct emu_policy_error err;
    int rc =
        emu_policy_parse(json_string_value(doc), json_string_length(doc), kind, NULL, &pol, &err);
    if (rc) {
        goto done;
    }
    for (size_t i = 0; i < pol->n_stmts && bindings != NULL; i++) {
        struct s_statement *st = &pol->stmts[i];
        for (size_t j = 0; j < st->n_principals; j++) {
            struct s_principal *p = &st->principals[j];
            const json_t *id = json_object_get(bindings, p->value);
            if (id == NULL || (p->kind != S_PK_USER && p->kind != S_PK_ROLE)) {
                continue;
            }
            if (!json_is_string(id) || json_string_length(id) >= EMU_UNIQUE_ID_MAX) {
                rc = CMEK_ERR_PARSE;
                goto done;
            }
            p->bound_id = s_arena_strdup(&pol->arena, json_string_value(id));
            if (p->bound_id == NULL) {
                rc = CMEK_ERR_NOMEM;
                goto done;
            }
        }
    }
    pol->n_bindings = 0;
    rc = s_collect_bindings(pol);
    if (rc) {
        goto done;
    }
    *out = pol;
    pol = NULL;
done:
    emu_policy_destroy(pol);
    return rc;
}

/* ==== Rendering (the document as GetKeyPolicy / GetRole show it now) ==== */

struct s_render {
    const struct emu_policy *pol;
    const struct emu_principal_resolver *resolver;
    const char *p;
    const char *end;
    const char *flushed; /* text before this is already in out */
    struct cmek_buf *out;
};

static void s_skip_ws(struct s_render *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) {
        r->p++;
    }
}

/* Decodes the JSON string token at r->p (on its opening quote) into dec (NUL-terminated,
 * truncated to cap) and moves past it. Non-ASCII \u escapes decode as '?': ARNs are ASCII. */
static void s_scan_string(struct s_render *r, char *dec, size_t cap)
{
    size_t n = 0;
    r->p++;
    while (r->p < r->end && *r->p != '"') {
        char c = *r->p++;
        if (c == '\\' && r->p < r->end) {
            char e = *r->p++;
            switch (e) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4 && r->p < r->end; i++) {
                    char h = *r->p++;
                    v = v * 16 + (unsigned)(h >= 'a'   ? h - 'a' + 10
                                            : h >= 'A' ? h - 'A' + 10
                                                       : h - '0');
                }
                c = v < 0x80 ? (char)v : '?';
                break;
            }
            default:
                c = e; /* \" \\ \/ */
                break;
            }
        }
        if (n + 1 < cap) {
            dec[n++] = c;
        }
    }
    r->p++; /* closing quote */
    dec[n] = '\0';
}

static const struct s_binding *s_find_binding(const struct emu_policy *pol, const char *arn)
{
    for (size_t i = 0; i < pol->n_bindings; i++) {
        if (strcmp(pol->bindings[i].arn, arn) == 0) {
            return &pol->bindings[i];
        }
    }
    return NULL;
}

enum s_rstate {
    S_R_OTHER,
    S_R_PRINCIPAL, /* the object under Principal / NotPrincipal */
    S_R_AWS,       /* the value(s) under its "AWS" key */
};

static int s_render_value(struct s_render *r, enum s_rstate state);

static int s_render_string(struct s_render *r, enum s_rstate state)
{
    const char *start = r->p;
    char dec[1024];
    s_scan_string(r, dec, sizeof(dec));
    if (state != S_R_AWS) {
        return CMEK_OK;
    }
    const struct s_binding *bd = s_find_binding(r->pol, dec);
    if (bd == NULL) {
        return CMEK_OK;
    }
    char id[EMU_UNIQUE_ID_MAX];
    int rc = s_call_resolver(r->resolver, bd->arn, id);
    if (rc != CMEK_OK && rc != CMEK_ERR_NOT_FOUND) {
        return rc;
    }
    if (rc == CMEK_OK && strcmp(id, bd->unique_id) == 0) {
        return CMEK_OK;
    }
    struct cmek_view before = {r->flushed, (size_t)(start - r->flushed)};
    rc = cmek_buf_append_view(r->out, before);
    rc = rc ? rc : cmek_buf_appendf(r->out, "\"%s\"", bd->unique_id);
    r->flushed = r->p;
    return rc;
}

static int s_render_value(struct s_render *r, enum s_rstate state)
{
    int rc = CMEK_OK;
    s_skip_ws(r);
    if (r->p >= r->end) {
        return CMEK_OK;
    }
    switch (*r->p) {
    case '{':
        r->p++;
        for (;;) {
            s_skip_ws(r);
            if (r->p >= r->end || *r->p == '}') {
                break;
            }
            if (*r->p == ',') {
                r->p++;
                continue;
            }
            char key[32];
            s_scan_string(r, key, sizeof(key));
            s_skip_ws(r);
            r->p++; /* ':' */
            enum s_rstate child = S_R_OTHER;
            if (state == S_R_OTHER &&
                (strcmp(key, "Principal") == 0 || strcmp(key, "NotPrincipal") == 0)) {
                child = S_R_PRINCIPAL;
            } else if (state == S_R_PRINCIPAL && strcmp(key, "AWS") == 0) {
                child = S_R_AWS;
            }
            rc = s_render_value(r, child);
            if (rc) {
                return rc;
            }
        }
        r->p++;
        break;
    case '[':
        r->p++;
        for (;;) {
            s_skip_ws(r);
            if (r->p >= r->end || *r->p == ']') {
                break;
            }
            if (*r->p == ',') {
                r->p++;
                continue;
            }
            rc = s_render_value(r, state == S_R_AWS ? S_R_AWS : S_R_OTHER);
            if (rc) {
                return rc;
            }
        }
        r->p++;
        break;
    case '"':
        rc = s_render_string(r, state);
        break;
    default:
        while (r->p < r->end && *r->p != ',' && *r->p != '}' && *r->p != ']' && *r->p != ' ' &&
               *r->p != '\t' && *r->p != '\n' && *r->p != '\r') {
            r->p++;
        }
        break;
    }
    return rc;
}

int emu_policy_render(const struct emu_policy *policy,
                      const struct emu_principal_resolver *resolver, struct cmek_buf *out)
{
    if (policy == NULL || out == NULL) {
        return CMEK_ERR_INVALID_ARG;
    }
    if (resolver == NULL || resolver->resolve == NULL || policy->n_bindings == 0) {
        return cmek_buf_append(out, policy->text, policy->text_len);
    }
    /* The text parsed as JSON already, so this scanner can trust its shape. */
    struct s_render r = {
        .pol = policy,
        .resolver = resolver,
        .p = policy->text,
        .end = policy->text + policy->text_len,
        .flushed = policy->text,
        .out = out,
    };
    int rc = s_render_value(&r, S_R_OTHER);
    if (rc) {
        return rc;
    }
    struct cmek_view rest = {r.flushed, (size_t)(policy->text + policy->text_len - r.flushed)};
    return cmek_buf_append_view(out, rest);
}

/* ==== Evaluation ==== */

#define S_N_DERIVED 7

/* The request context: the caller's entries, then the global keys the engine derives
 * ("AWS global condition context keys"). Lives on the evaluator's stack. */
struct s_ctx {
    const struct emu_eval_request *req;
    const char *names[S_N_DERIVED];
    const char *values[S_N_DERIVED][1];
    char userid[EMU_UNIQUE_ID_MAX + 72];
    char current_time[CMEK_ISO8601_LEN + 1];
    char epoch_time[24];
};

static void s_ctx_init(struct s_ctx *c, const struct emu_eval_request *req)
{
    memset(c, 0, sizeof(*c));
    c->req = req;
    const struct emu_principal *p = req->principal;
    const char *type = "Account";
    const char *principal_arn = p->arn;
    const char *username = NULL;
    const char *userid = p->unique_id;
    switch (p->type) {
    case EMU_PRINCIPAL_USER: {
        type = "User";
        const char *slash = p->arn != NULL ? strrchr(p->arn, '/') : NULL;
        username = slash != NULL ? slash + 1 : NULL;
        break;
    }
    case EMU_PRINCIPAL_ROLE_SESSION:
        type = "AssumedRole";
        principal_arn = p->entity_arn; /* aws:PrincipalArn is the role's ARN for a session */
        snprintf(c->userid, sizeof(c->userid), "%s:%s", p->unique_id ? p->unique_id : "",
                 p->session_name ? p->session_name : "");
        userid = c->userid;
        break;
    case EMU_PRINCIPAL_ROOT:
    default:
        userid = p->account;
        break;
    }
    cmek_time_format_iso8601(req->now, c->current_time);
    snprintf(c->epoch_time, sizeof(c->epoch_time), "%lld", (long long)req->now);
    const char *names[S_N_DERIVED] = {
        "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:userid",
        "aws:username",     "aws:CurrentTime",      "aws:EpochTime"};
    const char *values[S_N_DERIVED] = {principal_arn, p->account,      type,         userid,
                                       username,      c->current_time, c->epoch_time};
    for (size_t i = 0; i < S_N_DERIVED; i++) {
        c->names[i] = names[i];
        c->values[i][0] = values[i];
    }
}

/* false: the key is not in the request context. */
static bool s_ctx_lookup(const struct s_ctx *c, const char *key, const char *const **vals,
                         size_t *n)
{
    for (size_t i = 0; i < c->req->n_conditions; i++) {
        const struct emu_condition_entry *e = &c->req->conditions[i];
        if (e->key != NULL && strcasecmp(e->key, key) == 0) {
            *vals = e->values;
            *n = e->values != NULL ? e->n_values : 0;
            return *n > 0;
        }
    }
    for (size_t i = 0; i < S_N_DERIVED; i++) {
        if (c->values[i][0] != NULL && strcasecmp(c->names[i], key) == 0) {
            *vals = c->values[i];
            *n = 1;
            return true;
        }
    }
    return false;
}

static bool s_cmp_order(enum s_cmp cmp, int order)
{
    switch (cmp) {
    case S_CMP_EQ:
        return order == 0;
    case S_CMP_LT:
        return order < 0;
    case S_CMP_LE:
        return order <= 0;
    case S_CMP_GT:
        return order > 0;
    case S_CMP_GE:
        return order >= 0;
    default:
        return false;
    }
}

static bool s_ip_in(const struct s_ip *net, const struct s_ip *ip)
{
    if (net->family != ip->family) {
        return false;
    }
    unsigned full = net->prefix_bits / 8;
    unsigned rest = net->prefix_bits % 8;
    if (memcmp(net->addr, ip->addr, full) != 0) {
        return false;
    }
    if (rest == 0) {
        return true;
    }
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (net->addr[full] & mask) == (ip->addr[full] & mask);
}

/* ArnEquals/ArnLike: each of the six colon-separated parts matched on its own, with
 * wildcards, case-sensitively (Condition operators page, "ARN condition operators"). */
static bool s_arn_match(const char *pat, const char *val)
{
    struct cmek_view pp[6];
    struct cmek_view vp[6];
    size_t pn = s_split_colon(pat, strlen(pat), pp, 6);
    size_t vn = s_split_colon(val, strlen(val), vp, 6);
    if (pn < 6) {
        /* Not an ARN pattern: only a bare "*" still matches every value. */
        return strspn(pat, "*") == strlen(pat) && pat[0] != '\0';
    }
    if (vn < 6) {
        return false;
    }
    for (size_t i = 0; i < 6; i++) {
        if (!s_wild(pp[i].ptr, pp[i].len, vp[i].ptr, vp[i].len, false)) {
            return false;
        }
    }
    return true;
}

/* Does one policy value match one request value, in the positive sense of the operator? */
static bool s_value_match(const struct s_op *op, const struct s_cvalue *pv, const char *rv)
{
    if (!pv->valid || rv == NULL) {
        return false;
    }
    switch (op->vkind) {
    case S_V_STRING:
        return strcmp(pv->str, rv) == 0;
    case S_V_STRING_IC:
        return strcasecmp(pv->str, rv) == 0;
    case S_V_LIKE:
        return emu_policy_wildcard_match(pv->str, rv, false);
    case S_V_NUM: {
        double d;
        if (!s_parse_num(rv, &d)) {
            return false;
        }
        return s_cmp_order(op->cmp, d < pv->u.num ? -1 : d > pv->u.num ? 1 : 0);
    }
    case S_V_DATE: {
        int64_t t;
        if (!s_parse_date(rv, &t)) {
            return false;
        }
        return s_cmp_order(op->cmp, t < pv->u.time ? -1 : t > pv->u.time ? 1 : 0);
    }
    case S_V_BOOL: {
        bool v;
        return s_parse_bool(rv, &v) && v == pv->u.b;
    }
    case S_V_BINARY:
        /* DIFFERS: compares the base64 texts, not the decoded bytes. */
        return strcmp(pv->str, rv) == 0;
    case S_V_IP: {
        struct s_ip ip;
        return s_parse_ip(rv, false, &ip) && s_ip_in(&pv->u.ip, &ip);
    }
    case S_V_ARN:
        return s_arn_match(pv->str, rv);
    case S_V_NULL:
    default:
        return false;
    }
}

static bool s_any_policy_value(const struct s_cond *c, const char *rv)
{
    for (size_t i = 0; i < c->n_values; i++) {
        if (s_value_match(c->op, &c->values[i], rv)) {
            return true;
        }
    }
    return false;
}

/* One condition ("IAM JSON policy elements: Condition operators", "Set operators for
 * multivalued context keys"): policy values ORed; a negated operator means "matches none
 * of them"; a key absent from the context makes the condition false, except for negated
 * operators, ...IfExists and ForAllValues, which make it true. */
static bool s_cond_holds(const struct s_cond *c, const struct s_ctx *ctx)
{
    const char *const *vals = NULL;
    size_t n = 0;
    bool present = s_ctx_lookup(ctx, c->key, &vals, &n);
    if (c->op->vkind == S_V_NULL) {
        for (size_t i = 0; i < c->n_values; i++) {
            if (c->values[i].valid && c->values[i].u.b == !present) {
                return true;
            }
        }
        return false;
    }
    if (!present) {
        if (c->if_exists) {
            return true;
        }
        switch (c->set) {
        case S_SET_ALL:
            return true;
        case S_SET_ANY:
            return false;
        case S_SET_NONE:
        default:
            return c->op->negated;
        }
    }
    switch (c->set) {
    case S_SET_ALL:
        for (size_t i = 0; i < n; i++) {
            if (s_any_policy_value(c, vals[i]) == c->op->negated) {
                return false;
            }
        }
        return true;
    case S_SET_ANY:
        for (size_t i = 0; i < n; i++) {
            if (s_any_policy_value(c, vals[i]) != c->op->negated) {
                return true;
            }
        }
        return false;
    case S_SET_NONE:
    default: {
        /* Without a set operator, a multivalued key matches if any value does. */
        bool any = false;
        for (size_t i = 0; i < n && !any; i++) {
            any = s_any_policy_value(c, vals[i]);
        }
        return any != c->op->negated;
    }
    }
}

/* "AWS JSON policy elements: Principal". *direct: the match names the principal itself
 * (or everyone), not only its account. */
static bool s_principal_match(const struct s_principal *sp, const struct emu_principal *p,
                              bool *direct)
{
    *direct = true;
    switch (sp->kind) {
    case S_PK_ANY:
        return true;
    case S_PK_ACCOUNT:
        *direct = p->type == EMU_PRINCIPAL_ROOT;
        return s_str_eq(sp->account, p->account);
    case S_PK_USER:
        return p->type == EMU_PRINCIPAL_USER && s_str_eq(sp->value, p->entity_arn) &&
               (sp->bound_id == NULL || s_str_eq(sp->bound_id, p->unique_id));
    case S_PK_ROLE:
        return p->type == EMU_PRINCIPAL_ROLE_SESSION && s_str_eq(sp->value, p->entity_arn) &&
               (sp->bound_id == NULL || s_str_eq(sp->bound_id, p->unique_id));
    case S_PK_SESSION:
        return p->type == EMU_PRINCIPAL_ROLE_SESSION && s_str_eq(sp->value, p->arn);
    case S_PK_UNIQUE_ID:
        return p->type != EMU_PRINCIPAL_ROOT && s_str_eq(sp->value, p->unique_id);
    case S_PK_FOREIGN:
    default:
        return false;
    }
}

static bool s_statement_principal(const struct s_statement *st, const struct emu_principal *p,
                                  bool *direct)
{
    *direct = false;
    if (!st->has_principal) {
        return true; /* identity policies: the principal is the one the policy is attached to */
    }
    bool any = false;
    for (size_t i = 0; i < st->n_principals; i++) {
        bool d;
        if (s_principal_match(&st->principals[i], p, &d)) {
            any = true;
            *direct = *direct || d;
        }
    }
    if (st->not_principal) {
        *direct = !any; /* DIFFERS: an account listed in NotPrincipal exempts all its users */
        return !any;
    }
    return any;
}

static bool s_list_match(const struct s_strs *l, const char *value, bool ignore_case)
{
    for (size_t i = 0; i < l->n; i++) {
        if (emu_policy_wildcard_match(l->v[i], value, ignore_case)) {
            return true;
        }
    }
    return false;
}

void emu_policy_evaluate(const struct emu_policy *policy, const struct emu_eval_request *req,
                         struct emu_policy_eval *out)
{
    memset(out, 0, sizeof(*out));
    if (policy == NULL || req == NULL || req->principal == NULL) {
        return;
    }
    struct s_ctx ctx;
    bool ctx_ready = false; /* built on first need: most statements carry no Condition */
    for (size_t i = 0; i < policy->n_stmts; i++) {
        const struct s_statement *st = &policy->stmts[i];
        bool direct;
        if (st->inert || !s_statement_principal(st, req->principal, &direct)) {
            continue;
        }
        /* Action names are case-insensitive, resource ARNs are not ("Action", "Resource"). */
        if (s_list_match(&st->actions, req->action, true) == st->not_action) {
            continue;
        }
        if (st->has_resource &&
            s_list_match(&st->resources, req->resource, false) == st->not_resource) {
            continue;
        }
        if (st->n_conds > 0 && !ctx_ready) {
            s_ctx_init(&ctx, req);
            ctx_ready = true;
        }
        bool conds = true;
        for (size_t j = 0; j < st->n_conds && conds; j++) {
            conds = s_cond_holds(&st->conds[j], &ctx);
        }
        if (!conds) {
            continue;
        }
        if (st->deny) {
            out->deny = true;
        } else {
            out->allow = true;
            out->allow_direct = out->allow_direct || direct;
        }
    }
}

/* "Policy evaluation logic" and "Cross-account policy evaluation logic", with the rule the
 * KMS guide states for key policies and IAM for trust policies: they must allow, and naming
 * the account delegates to the account's identity policies. */
enum emu_authz_outcome emu_authorize(const struct emu_authz_input *in)
{
    if (in == NULL || in->req == NULL || in->req->principal == NULL) {
        return EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW;
    }
    const struct emu_principal *p = in->req->principal;
    bool id_deny = false;
    bool id_allow = p->type == EMU_PRINCIPAL_ROOT; /* root may do anything its account may */
    for (size_t i = 0; i < in->n_identity; i++) {
        struct emu_policy_eval ev;
        emu_policy_evaluate(in->identity[i], in->req, &ev);
        id_deny = id_deny || ev.deny;
        id_allow = id_allow || ev.allow;
    }
    struct emu_policy_eval res = {0};
    if (in->resource != NULL) {
        emu_policy_evaluate(in->resource, in->req, &res);
    }
    if (id_deny) {
        return EMU_AUTHZ_DENY_EXPLICIT_IDENTITY;
    }
    if (res.deny) {
        return EMU_AUTHZ_DENY_EXPLICIT_RESOURCE;
    }
    bool same_account = s_str_eq(p->account, in->resource_account);
    if (!same_account) {
        /* UNCERTAIN which text AWS gives when both are missing; the caller's own account
         * refuses first, so the identity side is reported first. */
        if (!id_allow) {
            return EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW;
        }
        return res.allow ? EMU_AUTHZ_ALLOW : EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW;
    }
    if (res.allow && res.allow_direct) {
        return EMU_AUTHZ_ALLOW;
    }
    if (!res.allow && in->resource_policy_required) {
        return EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW;
    }
    return id_allow ? EMU_AUTHZ_ALLOW : EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW;
}

/* "the role trust policy" is how the IAM guide words it; other types take a/an. */
static const char *s_article(const char *type)
{
    if (strcmp(type, "role trust") == 0) {
        return "the";
    }
    switch (s_lower(type[0])) {
    case 'a':
    case 'e':
    case 'i':
    case 'o':
    case 'u':
        return "an";
    default:
        return "a";
    }
}

/* IAM User Guide, "Troubleshoot access denied error messages". */
int emu_authz_message(enum emu_authz_outcome outcome, const struct emu_eval_request *req,
                      const char *resource_policy_type, struct cmek_buf *out)
{
    if (req == NULL || req->principal == NULL || out == NULL) {
        return CMEK_ERR_INVALID_ARG;
    }
    if (outcome == EMU_AUTHZ_ALLOW) {
        return CMEK_ERR_INVALID_ARG;
    }
    const char *type = resource_policy_type != NULL ? resource_policy_type : "resource-based";
    const char *arn = req->principal->arn != NULL ? req->principal->arn : "";
    int rc = cmek_buf_appendf(out, "User: %s is not authorized to perform: %s on resource: %s ",
                              arn, req->action, req->resource);
    if (rc) {
        return rc;
    }
    switch (outcome) {
    case EMU_AUTHZ_DENY_EXPLICIT_IDENTITY:
        return cmek_buf_append_str(out, "with an explicit deny in an identity-based policy");
    case EMU_AUTHZ_DENY_EXPLICIT_RESOURCE:
        return cmek_buf_appendf(out, "with an explicit deny in %s %s policy", s_article(type),
                                type);
    case EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW:
        return cmek_buf_appendf(out, "because no identity-based policy allows the %s action",
                                req->action);
    case EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW:
        return cmek_buf_appendf(out, "because no %s policy allows the %s action", type,
                                req->action);
    case EMU_AUTHZ_ALLOW:
    default:
        return CMEK_ERR_INVALID_ARG;
    }
}
