#include "cmek/map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char s_tombstone;
#define S_TOMBSTONE (&s_tombstone)

/* FNV-1a, 64-bit: keys are short identifiers chosen by the emulator or its clients; the
 * table resizes at 50% load, so clustering stays bounded. */
static uint64_t s_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

void cmek_map_init(struct cmek_map *map)
{
    map->slots = NULL;
    map->cap = 0;
    map->len = 0;
    map->used = 0;
}

void cmek_map_clean_up(struct cmek_map *map)
{
    if (map == NULL) {
        return;
    }
    for (size_t i = 0; i < map->cap; i++) {
        if (map->slots[i].key != NULL && map->slots[i].key != S_TOMBSTONE) {
            free(map->slots[i].key);
        }
    }
    free(map->slots);
    cmek_map_init(map);
}

static struct cmek_map_slot *s_find(const struct cmek_map *map, const char *key)
{
    if (map->cap == 0) {
        return NULL;
    }
    size_t mask = map->cap - 1;
    for (size_t i = (size_t)s_hash(key) & mask, n = 0; n < map->cap; i = (i + 1) & mask, n++) {
        struct cmek_map_slot *s = &map->slots[i];
        if (s->key == NULL) {
            return NULL;
        }
        if (s->key != S_TOMBSTONE && strcmp(s->key, key) == 0) {
            return s;
        }
    }
    return NULL;
}

void *cmek_map_get(const struct cmek_map *map, const char *key)
{
    struct cmek_map_slot *s = s_find(map, key);
    return s != NULL ? s->value : NULL;
}

static int s_grow(struct cmek_map *map)
{
    size_t cap = map->cap ? map->cap * 2 : 16;
    if (map->len * 2 < map->cap) {
        cap = map->cap; /* mostly tombstones: rehash in place size */
    }
    struct cmek_map_slot *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL) {
        return CMEK_ERR_NOMEM;
    }
    for (size_t i = 0; i < map->cap; i++) {
        struct cmek_map_slot *old = &map->slots[i];
        if (old->key == NULL || old->key == S_TOMBSTONE) {
            continue;
        }
        size_t j = (size_t)s_hash(old->key) & (cap - 1);
        while (slots[j].key != NULL) {
            j = (j + 1) & (cap - 1);
        }
        slots[j] = *old;
    }
    free(map->slots);
    map->slots = slots;
    map->cap = cap;
    map->used = map->len;
    return CMEK_OK;
}

int cmek_map_put(struct cmek_map *map, const char *key, void *value, void **old)
{
    if (old != NULL) {
        *old = NULL;
    }
    struct cmek_map_slot *s = s_find(map, key);
    if (s != NULL) {
        if (old != NULL) {
            *old = s->value;
        }
        s->value = value;
        return CMEK_OK;
    }
    if ((map->used + 1) * 2 > map->cap) {
        int rc = s_grow(map);
        if (rc) {
            return rc;
        }
    }
    char *copy = strdup(key);
    if (copy == NULL) {
        return CMEK_ERR_NOMEM;
    }
    size_t mask = map->cap - 1;
    size_t i = (size_t)s_hash(key) & mask;
    while (map->slots[i].key != NULL && map->slots[i].key != S_TOMBSTONE) {
        i = (i + 1) & mask;
    }
    if (map->slots[i].key == NULL) {
        map->used++;
    }
    map->slots[i].key = copy;
    map->slots[i].value = value;
    map->len++;
    return CMEK_OK;
}

void *cmek_map_remove(struct cmek_map *map, const char *key)
{
    struct cmek_map_slot *s = s_find(map, key);
    if (s == NULL) {
        return NULL;
    }
    void *value = s->value;
    free(s->key);
    s->key = S_TOMBSTONE;
    s->value = NULL;
    map->len--;
    return value;
}
