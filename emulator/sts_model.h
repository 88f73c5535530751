/* sts_model.h: temporary credentials issued by the emulated STS. STS (sts.c) creates them;
 * request authentication (aws_auth.c) looks them up. Read and written under the store lock.
 *
 * A session remembers the role's unique id, not only its name: after the role is deleted
 * and a namesake created, the old session does not gain the new role's permissions. */
#ifndef EMU_STS_MODEL_H
#define EMU_STS_MODEL_H

#include <jansson.h>
#include <stdint.h>

#include "cmek/sigv4.h"
#include "cmek/vec.h"
#include "policy.h"

/* Oldest sessions are forgotten past this many (an expired session still answers
 * ExpiredToken until then, however far the clock moved). */
#define EMU_STS_MAX_SESSIONS 65536

struct emu_sts_session {
    char *access_key_id;               /* ASIA... */
    char *secret;                      /* never logged */
    char *token;                       /* never logged */
    struct cmek_sigv4_key_cache sigv4; /* derived signing key, for the verifier */
    char *account;                     /* the role's account */
    char *role_id;                     /* AROA... at the time of AssumeRole */
    char *role_arn;                    /* with path */
    char *role_name;
    char *session_name;
    char *arn;                         /* arn:aws:sts::A:assumed-role/ROLE/SESSION */
    char *source_arn;                  /* who called AssumeRole */
    char *source_identity;             /* NULL when none */
    int64_t issued_s;                  /* emulator clock */
    int64_t expires_s;                 /* emulator clock */
    struct emu_policy *session_policy; /* owned; NULL when none */
};

struct emu_sts {
    struct cmek_vec sessions; /* struct emu_sts_session *, owned, oldest first */
};

void emu_sts_init(struct emu_sts *sts);
void emu_sts_clean_up(struct emu_sts *sts);
void emu_sts_session_destroy(struct emu_sts_session *s);
struct emu_sts_session *emu_sts_find(const struct emu_sts *sts, const char *access_key_id);
/* Takes ownership of session (also on failure). Forgets the oldest past the cap. */
CMEK_WUR int emu_sts_add(struct emu_sts *sts, struct emu_sts_session *session);
CMEK_WUR json_t *emu_sts_to_json(const struct emu_sts *sts);
CMEK_WUR int emu_sts_load(struct emu_sts *sts, const json_t *sessions);

#endif
