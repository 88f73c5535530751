#include "sts_model.h"

#include <stdlib.h>
#include <string.h>

#include "cmek/crypto.h"

void emu_sts_init(struct emu_sts *sts)
{
    cmek_vec_init(&sts->sessions);
}

void emu_sts_session_destroy(struct emu_sts_session *s)
{
    if (s == NULL) {
        return;
    }
    cmek_cleanse_str(s->secret);
    cmek_cleanse_str(s->token);
    cmek_sigv4_key_cache_clean_up(&s->sigv4);
    free(s->access_key_id);
    free(s->secret);
    free(s->token);
    free(s->account);
    free(s->role_id);
    free(s->role_arn);
    free(s->role_name);
    free(s->session_name);
    free(s->arn);
    free(s->source_arn);
    free(s->source_identity);
    emu_policy_destroy(s->session_policy);
    free(s);
}

void emu_sts_clean_up(struct emu_sts *sts)
{
    for (size_t i = 0; i < sts->sessions.len; i++) {
        emu_sts_session_destroy(sts->sessions.items[i]);
    }
    cmek_vec_clean_up(&sts->sessions);
}

struct emu_sts_session *emu_sts_find(const struct emu_sts *sts, const char *access_key_id)
{
    for (size_t i = sts->sessions.len; i-- > 0;) {
        struct emu_sts_session *s = sts->sessions.items[i];
        if (strcmp(s->access_key_id, access_key_id) == 0) {
            return s;
        }
    }
    return NULL;
}

int emu_sts_add(struct emu_sts *sts, struct emu_sts_session *session)
{
    if (sts->sessions.len >= EMU_STS_MAX_SESSIONS) {
        emu_sts_session_destroy(cmek_vec_remove_at(&sts->sessions, 0));
    }
    int rc = cmek_vec_push(&sts->sessions, session);
    if (rc) {
        emu_sts_session_destroy(session);
    }
    return rc;
}

json_t *emu_sts_to_json(const struct emu_sts *sts)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < sts->sessions.len; i++) {
        const struct emu_sts_session *s = sts->sessions.items[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "access_key_id",
                              s->access_key_id, "secret", s->secret, "token", s->token, "account",
                              s->account, "role_id", s->role_id, "role_arn", s->role_arn,
                              "role_name", s->role_name, "session_name", s->session_name, "arn",
                              s->arn, "source_arn", s->source_arn, "issued",
                              (json_int_t)s->issued_s, "expires", (json_int_t)s->expires_s);
        if (o != NULL && s->source_identity != NULL) {
            json_object_set_new(o, "source_identity", json_string(s->source_identity));
        }
        if (o != NULL && s->session_policy != NULL) {
            json_object_set_new(o, "session_policy", emu_policy_to_json(s->session_policy));
        }
        if (o == NULL || json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static char *s_dup(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? strdup(v) : NULL;
}

int emu_sts_load(struct emu_sts *sts, const json_t *sessions)
{
    size_t i;
    json_t *o;
    json_array_foreach(sessions, i, o)
    {
        struct emu_sts_session *s = calloc(1, sizeof(*s));
        if (s == NULL) {
            return CMEK_ERR_NOMEM;
        }
        s->access_key_id = s_dup(o, "access_key_id");
        s->secret = s_dup(o, "secret");
        s->token = s_dup(o, "token");
        s->account = s_dup(o, "account");
        s->role_id = s_dup(o, "role_id");
        s->role_arn = s_dup(o, "role_arn");
        s->role_name = s_dup(o, "role_name");
        s->session_name = s_dup(o, "session_name");
        s->arn = s_dup(o, "arn");
        s->source_arn = s_dup(o, "source_arn");
        s->source_identity = s_dup(o, "source_identity");
        s->issued_s = json_integer_value(json_object_get(o, "issued"));
        s->expires_s = json_integer_value(json_object_get(o, "expires"));
        int rc = CMEK_OK;
        json_t *sp = json_object_get(o, "session_policy");
        if (sp != NULL) {
            rc = emu_policy_from_json(sp, EMU_POLICY_IDENTITY, &s->session_policy);
        }
        if (!s->access_key_id || !s->secret || !s->token || !s->account || !s->role_id ||
            !s->role_arn || !s->role_name || !s->session_name || !s->arn || !s->source_arn) {
            rc = CMEK_ERR_PARSE;
        }
        if (rc) {
            emu_sts_session_destroy(s);
            return rc;
        }
        rc = emu_sts_add(sts, s);
        if (rc) {
            return rc;
        }
    }
    return CMEK_OK;
}
