/* Small conveniences over libcbor's item API for host code (client, tests, bench). */
#ifndef TB_TOOLS_CBORX_H
#define TB_TOOLS_CBORX_H

#include <cbor.h>

/* The value under a text key of a map, or NULL. */
cbor_item_t *tb_cbor_get(cbor_item_t *map, const char *key);
/* Add key: value (the value's reference moves into the map). */
void tb_cbor_add(cbor_item_t *map, const char *key, cbor_item_t *value);

#endif
