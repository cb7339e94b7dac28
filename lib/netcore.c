/* The cross-core command block: fixed little-endian layout in shared RAM,
 * a request half written only by the app core and a response half written
 * only by the net core, each with its own CRC-32, so neither side ever
 * writes bytes the other is checking. */
#include "le.h"
#include "twinboot/netcore.h"

#include <string.h>

#include "twinboot/error.h"

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()). Bitwise: the block is
 * 60 bytes, and the net-core bootloader has no room for a table. */
uint32_t tb_crc32(uint32_t crc, const void *buf, uint32_t len)
{
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1U)));
        }
    }
    return ~crc;
}

/* Shared RAM is memory-mapped on the chip: byte copies through a volatile
 * pointer keep the compiler from caching or merging accesses. */
void tb_shm_write(const struct tb_shmem *m, uint32_t off, const void *buf, uint32_t len)
{
    const uint8_t *p = buf;
    for (uint32_t i = 0; i < len; i++) {
        m->base[off + i] = p[i];
    }
}

void tb_shm_read(const struct tb_shmem *m, uint32_t off, void *buf, uint32_t len)
{
    uint8_t *p = buf;
    for (uint32_t i = 0; i < len; i++) {
        p[i] = m->base[off + i];
    }
}

uint32_t tb_nc_window_size(const struct tb_shmem *m)
{
    return m->size > TB_NC_WINDOW_OFF ? m->size - TB_NC_WINDOW_OFF : 0;
}

static int seal(const struct tb_shmem *m, uint32_t off, uint8_t *blk)
{
    if (m == NULL || m->base == NULL || m->size < TB_NC_WINDOW_OFF) {
        return TB_E_INVAL;
    }
    tb_put32(blk + 60, tb_crc32(0, blk, 60));
    tb_shm_write(m, off, blk, 64);
    return TB_OK;
}

static int unseal(const struct tb_shmem *m, uint32_t off, uint32_t magic, uint8_t *blk)
{
    if (m == NULL || m->base == NULL || m->size < TB_NC_WINDOW_OFF) {
        return TB_E_INVAL;
    }
    tb_shm_read(m, off, blk, 64);
    if (tb_get32(blk) != magic || tb_get16(blk + 4) != TB_NC_VERSION || tb_get32(blk + 60) != tb_crc32(0, blk, 60)) {
        return TB_E_INVAL;
    }
    return TB_OK;
}

int tb_nc_write_request(const struct tb_shmem *m, const struct tb_nc_request *r)
{
    uint8_t b[64] = {0};
    tb_put32(b, TB_NC_REQ_MAGIC);
    tb_put16(b + 4, TB_NC_VERSION);
    b[6] = r->cmd;
    tb_put32(b + 8, r->seq);
    tb_put32(b + 12, r->len);
    tb_put32(b + 16, r->offset);
    memcpy(b + 20, r->hash, 32);
    tb_put32(b + 52, r->addr);
    return seal(m, TB_NC_REQ_OFF, b);
}

int tb_nc_read_request(const struct tb_shmem *m, struct tb_nc_request *r)
{
    uint8_t b[64];
    int rc = unseal(m, TB_NC_REQ_OFF, TB_NC_REQ_MAGIC, b);
    if (rc != TB_OK) {
        return rc;
    }
    r->cmd = b[6];
    r->seq = tb_get32(b + 8);
    r->len = tb_get32(b + 12);
    r->offset = tb_get32(b + 16);
    memcpy(r->hash, b + 20, 32);
    r->addr = tb_get32(b + 52);
    return TB_OK;
}

int tb_nc_write_response(const struct tb_shmem *m, const struct tb_nc_response *r)
{
    uint8_t b[64] = {0};
    tb_put32(b, TB_NC_RSP_MAGIC);
    tb_put16(b + 4, TB_NC_VERSION);
    b[6] = r->status;
    b[7] = r->valid;
    tb_put32(b + 8, r->seq);
    tb_put32(b + 12, (uint32_t)r->reason);
    tb_put32(b + 16, r->size);
    tb_image_version_encode(&r->ver, b + 20);
    memcpy(b + 28, r->hash, 32);
    return seal(m, TB_NC_RSP_OFF, b);
}

int tb_nc_read_response(const struct tb_shmem *m, struct tb_nc_response *r)
{
    uint8_t b[64];
    int rc = unseal(m, TB_NC_RSP_OFF, TB_NC_RSP_MAGIC, b);
    if (rc != TB_OK) {
        return rc;
    }
    r->status = b[6];
    r->valid = b[7];
    r->seq = tb_get32(b + 8);
    r->reason = (int32_t)tb_get32(b + 12);
    r->size = tb_get32(b + 16);
    tb_image_version_decode(b + 20, &r->ver);
    memcpy(r->hash, b + 28, 32);
    return TB_OK;
}

void tb_nc_clear(const struct tb_shmem *m)
{
    uint8_t z[TB_NC_REQ_SIZE + TB_NC_RSP_SIZE] = {0};
    if (m != NULL && m->base != NULL && m->size >= TB_NC_WINDOW_OFF) {
        tb_shm_write(m, 0, z, sizeof(z));
    }
}
