/* cmek/vec.h: a growable array of owned or borrowed pointers (the owner says which). */
#ifndef CMEK_VEC_H
#define CMEK_VEC_H

#include <stddef.h>

#include "cmek/error.h"

struct cmek_vec {
    void **items;
    size_t len;
    size_t cap;
};

void cmek_vec_init(struct cmek_vec *vec);
/* Frees the array, not the items (NULL-safe). */
void cmek_vec_clean_up(struct cmek_vec *vec);
CMEK_WUR int cmek_vec_push(struct cmek_vec *vec, void *item);
/* Removes items[index] keeping order; returns it. */
void *cmek_vec_remove_at(struct cmek_vec *vec, size_t index);

#endif
