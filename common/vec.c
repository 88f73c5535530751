#include "cmek/vec.h"

#include <stdlib.h>
#include <string.h>

void cmek_vec_init(struct cmek_vec *vec)
{
    vec->items = NULL;
    vec->len = 0;
    vec->cap = 0;
}

void cmek_vec_clean_up(struct cmek_vec *vec)
{
    if (vec == NULL) {
        return;
    }
    free(vec->items);
    cmek_vec_init(vec);
}

int cmek_vec_push(struct cmek_vec *vec, void *item)
{
    if (vec->len == vec->cap) {
        size_t cap = vec->cap ? vec->cap * 2 : 8;
        void **grown = realloc(vec->items, cap * sizeof(*grown));
        if (grown == NULL) {
            return CMEK_ERR_NOMEM;
        }
        vec->items = grown;
        vec->cap = cap;
    }
    vec->items[vec->len++] = item;
    return CMEK_OK;
}

void *cmek_vec_remove_at(struct cmek_vec *vec, size_t index)
{
    void *item = vec->items[index];
    memmove(vec->items + index, vec->items + index + 1,
            (vec->len - index - 1) * sizeof(*vec->items));
    vec->len--;
    return item;
}
