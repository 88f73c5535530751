#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

/* The state a world describes, built aside so a failed load changes nothing. */
struct s_state {
    struct emu_iam iam;
    struct emu_sts sts;
    struct emu_kms kms;
    struct emu_ccloud ccloud;
    struct emu_vault vault;
};

static void s_state_clean_up(struct s_state *st)
{
    emu_iam_clean_up(&st->iam);
    emu_sts_clean_up(&st->sts);
    emu_kms_clean_up(&st->kms);
    emu_ccloud_clean_up(&st->ccloud);
    emu_vault_clean_up(&st->vault);
}

static int s_state_load(const struct emu_app *app, const json_t *world, int64_t now_ms,
                        struct s_state *st, struct emu_load_error *err)
{
    memset(st, 0, sizeof(*st));
    emu_iam_init(&st->iam);
    emu_sts_init(&st->sts);
    emu_kms_init(&st->kms);
    emu_ccloud_init(&st->ccloud);
    emu_vault_init(&st->vault);
    if (!json_is_object(world)) {
        snprintf(err->message, sizeof(err->message), "the world must be a JSON object");
        return CMEK_ERR_PARSE;
    }
    const json_t *aws = json_object_get(world, "aws");
    if (!json_is_object(aws)) {
        snprintf(err->message, sizeof(err->message), "the world needs an \"aws\" object");
        return CMEK_ERR_PARSE;
    }
    int rc = emu_iam_load(&st->iam, aws, app, now_ms, err);
    if (rc == CMEK_OK && json_object_get(aws, "sessions") != NULL) {
        rc = emu_sts_load(&st->sts, json_object_get(aws, "sessions"));
        if (rc) {
            snprintf(err->message, sizeof(err->message), "invalid aws.sessions");
        }
    }
    if (rc == CMEK_OK && json_object_get(aws, "kms") != NULL) {
        rc = emu_kms_load(&st->kms, json_object_get(aws, "kms"), &st->iam, now_ms / 1000, err);
    }
    if (rc == CMEK_OK) {
        rc =
            emu_ccloud_load(&st->ccloud, json_object_get(world, "ccloud"), app, now_ms / 1000, err);
    }
    if (rc == CMEK_OK) {
        rc = emu_vault_load(&st->vault, json_object_get(world, "vault"), err);
    }
    return rc;
}

static json_t *s_state_to_json(const struct emu_iam *iam, const struct emu_sts *sts,
                               const struct emu_kms *kms, const struct emu_ccloud *cc,
                               const struct emu_vault *v)
{
    json_t *vault = emu_vault_to_json(v);
    json_t *aws = emu_iam_to_json(iam);
    json_t *ccloud = emu_ccloud_to_json(cc);
    json_t *sessions = emu_sts_to_json(sts);
    json_t *kms_json = emu_kms_to_json(kms);
    json_t *out = NULL;
    if (aws != NULL && sessions != NULL && kms_json != NULL && ccloud != NULL && vault != NULL) {
        if (json_array_size(sessions) > 0) {
            json_object_set(aws, "sessions", sessions);
        }
        json_object_set(aws, "kms", kms_json);
        out = json_pack("{s:O,s:O,s:O}", "aws", aws, "ccloud", ccloud, "vault", vault);
    }
    json_decref(aws);
    json_decref(sessions);
    json_decref(kms_json);
    json_decref(ccloud);
    json_decref(vault);
    return out;
}

int emu_store_new(const struct emu_app *app, const json_t *world, struct emu_store **out,
                  struct emu_load_error *err)
{
    err->message[0] = '\0';
    struct emu_store *store = calloc(1, sizeof(*store));
    if (store == NULL) {
        return CMEK_ERR_NOMEM;
    }
    struct s_state st;
    int64_t now_ms = (int64_t)app->sys.wall_now(app->sys.ctx) * 1000;
    int rc = s_state_load(app, world, now_ms, &st, err);
    if (rc) {
        s_state_clean_up(&st);
        free(store);
        return rc;
    }
    store->world = s_state_to_json(&st.iam, &st.sts, &st.kms, &st.ccloud, &st.vault);
    if (store->world == NULL) {
        s_state_clean_up(&st);
        free(store);
        return CMEK_ERR_NOMEM;
    }
    pthread_mutex_init(&store->lock, NULL);
    store->iam = st.iam;
    store->sts = st.sts;
    store->kms = st.kms;
    store->ccloud = st.ccloud;
    store->vault = st.vault;
    *out = store;
    return CMEK_OK;
}

void emu_store_destroy(struct emu_store *store)
{
    if (store == NULL) {
        return;
    }
    emu_iam_clean_up(&store->iam);
    emu_sts_clean_up(&store->sts);
    emu_kms_clean_up(&store->kms);
    emu_ccloud_clean_up(&store->ccloud);
    emu_vault_clean_up(&store->vault);
    json_decref(store->world);
    pthread_mutex_destroy(&store->lock);
    free(store);
}

void emu_store_lock(struct emu_store *store)
{
    pthread_mutex_lock(&store->lock);
}

void emu_store_unlock(struct emu_store *store)
{
    pthread_mutex_unlock(&store->lock);
}

int emu_store_reset(const struct emu_app *app, struct emu_store *store)
{
    struct s_state st;
    struct emu_load_error err;
    int64_t now_ms = (int64_t)app->sys.wall_now(app->sys.ctx) * 1000;
    int rc = s_state_load(app, store->world, now_ms, &st, &err);
    if (rc) {
        emu_log(app, EMU_LOG_ERROR, "reset failed: %s", err.message);
        s_state_clean_up(&st);
        return rc;
    }
    emu_iam_clean_up(&store->iam);
    emu_sts_clean_up(&store->sts);
    emu_kms_clean_up(&store->kms);
    emu_ccloud_clean_up(&store->ccloud);
    emu_vault_clean_up(&store->vault);
    store->iam = st.iam;
    store->sts = st.sts;
    store->kms = st.kms;
    store->ccloud = st.ccloud;
    store->vault = st.vault;
    store->clock_offset_s = 0;
    return CMEK_OK;
}

time_t emu_store_now(const struct emu_app *app, const struct emu_store *store)
{
    return app->sys.wall_now(app->sys.ctx) + (time_t)store->clock_offset_s;
}

const json_t *emu_store_world(const struct emu_store *store)
{
    return store->world;
}

json_t *emu_store_snapshot(const struct emu_store *store)
{
    return s_state_to_json(&store->iam, &store->sts, &store->kms, &store->ccloud, &store->vault);
}
