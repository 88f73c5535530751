/* store.h: all emulated state, in one place, behind one lock.
 *
 * Ownership: the store owns every service's state and the normalized world it was built
 * from. Locking: one mutex; a request handler takes it (emu_store_lock) for the whole of
 * authenticate -> authorize -> apply -> render, so every request sees and leaves a
 * consistent state, and in-process calls between services (e.g. the emulated cluster
 * calling STS and KMS) happen under the same lock without re-entering it.
 *
 * Serialization: emu_store_snapshot() gives the whole state in the world-file format
 * (docs/world.md), so persistence is a matter of writing that and loading it back. */
#ifndef EMU_STORE_H
#define EMU_STORE_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "ccloud_model.h"
#include "iam_model.h"
#include "kms_model.h"
#include "sts_model.h"
#include "vault_model.h"

struct emu_app;

struct emu_store {
    pthread_mutex_t lock;
    json_t *world;          /* owned: the normalized world; reset rebuilds from it */
    int64_t clock_offset_s; /* emulator clock = wall clock + offset; never negative */
    struct emu_iam iam;
    struct emu_sts sts;
    struct emu_kms kms;
    struct emu_ccloud ccloud; /* the Cloud API: organizations, keys, clusters (ccloud_model.h) */
    struct emu_vault vault;   /* Vault: tokens, namespaces, mounts, keymgmt (vault_model.h) */
};

/* Builds a store from a world document (borrowed). On failure err says why. */
CMEK_WUR int emu_store_new(const struct emu_app *app, const json_t *world, struct emu_store **out,
                           struct emu_load_error *err);
void emu_store_destroy(struct emu_store *store);

void emu_store_lock(struct emu_store *store);
void emu_store_unlock(struct emu_store *store);

/* Back to the world, clock offset 0. Lock held. On failure the state is unchanged. */
CMEK_WUR int emu_store_reset(const struct emu_app *app, struct emu_store *store);

/* The emulator clock (lock held): the wall clock plus the offset. */
time_t emu_store_now(const struct emu_app *app, const struct emu_store *store);

/* The normalized world (borrowed). */
const json_t *emu_store_world(const struct emu_store *store);
/* The whole current state in world format (new reference). Lock held. */
CMEK_WUR json_t *emu_store_snapshot(const struct emu_store *store);

#endif
