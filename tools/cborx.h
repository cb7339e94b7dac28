/* Small conveniences over libcbor's item API for host code (client, tests, bench). */
#ifndef TB_TOOLS_CBORX_H
#define TB_TOOLS_CBORX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

/* The value under a text key of a map, or NULL. */
cbor_item_t *tb_cbor_get(cbor_item_t *map, const char *key);
/* Add key: value (the value's reference moves into the map). */
void tb_cbor_add(cbor_item_t *map, const char *key, cbor_item_t *value);

/* Typed values under a key: 1 found with that type, 0 absent, -1 present
 * with another type (what a client must report, never assume). */
int tb_cbor_get_uint(cbor_item_t *map, const char *key, uint64_t *v);
int tb_cbor_get_bool(cbor_item_t *map, const char *key, bool *v);
/* text: a definite text string, else a definite byte string */
int tb_cbor_get_str(cbor_item_t *map, const char *key, bool text, const uint8_t **p, size_t *n);

#endif
