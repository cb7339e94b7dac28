#include "cborx.h"

#include <string.h>

cbor_item_t *tb_cbor_get(cbor_item_t *map, const char *key)
{
    if (map == NULL || !cbor_isa_map(map)) {
        return NULL;
    }
    struct cbor_pair *p = cbor_map_handle(map);
    size_t n = strlen(key);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        if (cbor_isa_string(p[i].key) && cbor_string_length(p[i].key) == n &&
            memcmp(cbor_string_handle(p[i].key), key, n) == 0) {
            return p[i].value;
        }
    }
    return NULL;
}

void tb_cbor_add(cbor_item_t *map, const char *key, cbor_item_t *value)
{
    (void)cbor_map_add(map, (struct cbor_pair){cbor_move(cbor_build_string(key)), cbor_move(value)});
}
