/* Little-endian field access for the on-flash and shared-RAM formats: they
 * must read the same whatever compiler and CPU wrote them. */
#ifndef TB_LE_H
#define TB_LE_H

#include <stdint.h>

static inline uint16_t tb_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static inline uint32_t tb_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void tb_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void tb_put32(uint8_t *p, uint32_t v)
{
    tb_put16(p, (uint16_t)v);
    tb_put16(p + 2, (uint16_t)(v >> 16));
}

#endif
