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

int tb_cbor_get_uint(cbor_item_t *map, const char *key, uint64_t *v)
{
    cbor_item_t *it = tb_cbor_get(map, key);
    if (it == NULL) {
        return 0;
    }
    if (!cbor_isa_uint(it)) {
        return -1;
    }
    *v = cbor_get_int(it);
    return 1;
}

int tb_cbor_get_bool(cbor_item_t *map, const char *key, bool *v)
{
    cbor_item_t *it = tb_cbor_get(map, key);
    if (it == NULL) {
        return 0;
    }
    if (!cbor_is_bool(it)) {
        return -1;
    }
    *v = cbor_get_bool(it);
    return 1;
}

int tb_cbor_get_str(cbor_item_t *map, const char *key, bool text, const uint8_t **p, size_t *n)
{
    cbor_item_t *it = tb_cbor_get(map, key);
    if (it == NULL) {
        return 0;
    }
    /* indefinite strings have no single handle: not what a device sends */
    if (text ? !cbor_isa_string(it) || !cbor_string_is_definite(it)
             : !cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it)) {
        return -1;
    }
    *p = text ? cbor_string_handle(it) : cbor_bytestring_handle(it);
    *n = text ? cbor_string_length(it) : cbor_bytestring_length(it);
    if (*p == NULL) {
        *p = (const uint8_t *)"";
    }
    return 1;
}
