/* cmek/map.h: a string-keyed hash map (open addressing, linear probing). Keys are copied
 * and owned by the map; values are borrowed pointers the owner of the map manages. Lookups
 * cost the same however many entries there are, which keeps per-request work flat. */
#ifndef CMEK_MAP_H
#define CMEK_MAP_H

#include <stddef.h>

#include "cmek/error.h"

struct cmek_map_slot {
    char *key; /* NULL: empty; CMEK_MAP_TOMBSTONE: deleted */
    void *value;
};

struct cmek_map {
    struct cmek_map_slot *slots;
    size_t cap;  /* power of two, or 0 */
    size_t len;  /* live entries */
    size_t used; /* live + tombstones */
};

void cmek_map_init(struct cmek_map *map);
/* Frees the table and the key copies, not the values. NULL-safe. */
void cmek_map_clean_up(struct cmek_map *map);
/* The value for key, or NULL. */
void *cmek_map_get(const struct cmek_map *map, const char *key);
/* Inserts or replaces; *old (if not NULL) receives a replaced value or NULL. */
CMEK_WUR int cmek_map_put(struct cmek_map *map, const char *key, void *value, void **old);
/* Removes key; returns its value or NULL. */
void *cmek_map_remove(struct cmek_map *map, const char *key);

#endif
