/* Compressed images, the decoder side: a read-only flash whose contents are
 * the image a compressed image rebuilds (see include/twinboot/decompress.h).
 *
 * The decoder is the LZMA SDK's (Lzma2Dec.c, LzmaDec.c and the ARM-Thumb
 * converter of Bra.c, from Debian's lzma source package). It allocates
 * through an ISzAlloc: here a bump allocator over one static arena, reset
 * at every start of the stream, so there is no heap. LZMA2 needs its
 * dictionary in RAM (matches reach back up to dict_size bytes into the
 * output, and the output's flash cannot be read back mid-sector in a
 * portable way); the dictionary doubles as the output window.
 *
 * The ARM-Thumb filter runs on a small staging buffer, never on the
 * dictionary (later matches must see the unfiltered bytes). Like liblzma's
 * filter, it converts whole 4-byte BL pairs only; up to 3 bytes wait for
 * the next batch, and the last bytes of the stream pass through as they are.
 */
#include <string.h>

#include "Bra.h"
#include "Lzma2Dec.h"
#include "twinboot/decompress.h"
#include "twinboot/error.h"

#define TB_DECOMP_IN 256U    /* compressed bytes read from flash at a time */
#define TB_DECOMP_STAGE 512U /* decoded bytes handed out at a time */

struct tb_decomp {
    struct tb_flash flash; /* the view */
    struct tb_area src;
    struct tb_decomp_desc d;
    uint8_t hdr[TB_IMAGE_HEADER_SIZE]; /* the rebuilt header */
    uint8_t tlv[TB_DECOMP_TLV_MAX];    /* the rebuilt TLV area */
    uint32_t pay_off, pay_end;         /* the payload in the view */

    /* the stream */
    bool started, failed;
    CLzma2Dec dec;
    uint32_t in_off, in_end;           /* compressed bytes still to read, in src */
    uint8_t in[TB_DECOMP_IN];
    uint32_t in_pos, in_len;
    uint32_t produced;                 /* payload bytes out of the LZMA2 decoder */
    /* stage[0, ready) are final payload bytes starting at payload offset
     * stage_at; stage[ready, ready + pend) wait for the BCJ filter */
    uint8_t stage[TB_DECOMP_STAGE];
    uint32_t stage_at, ready, pend;

    size_t arena_used;
    struct tb_decomp_stats stats;
};

static struct tb_decomp g_dec;
#ifdef TB_CONFIG_DECOMP_ARENA_EXTERNAL
/* the port hands over a RAM region of its own (tb_decomp_set_arena) */
static uint8_t *g_arena;
static size_t g_arena_size;

void tb_decomp_set_arena(void *ram, size_t size)
{
    g_arena = ram;
    g_arena_size = ram != NULL ? size : 0;
}
#else
/* 8-byte aligned: the decoder's tables are 16-bit and its struct pointers. */
static uint64_t g_arena_ram[(TB_DECOMP_RAM + 7U) / 8U];
static uint8_t *const g_arena = (uint8_t *)g_arena_ram;
static const size_t g_arena_size = sizeof(g_arena_ram);
#endif

static void *arena_alloc(void *p, size_t size)
{
    (void)p;
    size_t n = (size + 7U) & ~(size_t)7U;
    if (g_arena == NULL || n > g_arena_size - g_dec.arena_used) {
        return NULL;
    }
    void *r = g_arena + g_dec.arena_used;
    g_dec.arena_used += n;
    return r;
}

static void arena_free(void *p, void *address) { (void)p, (void)address; } /* all of it goes at the next start */

static ISzAlloc g_alloc = {arena_alloc, arena_free};

/* Back to the first byte of the stream. */
static int restart(struct tb_decomp *z)
{
    uint8_t dict_byte;
    z->started = false;
    z->arena_used = 0;
    int rc = tb_area_read(&z->src, z->d.hdr.hdr_size, &dict_byte, 1);
    if (rc != TB_OK) {
        return rc;
    }
    Lzma2Dec_Construct(&z->dec);
    if (Lzma2Dec_Allocate(&z->dec, dict_byte, &g_alloc) != SZ_OK) {
        return TB_E_UNSUPPORTED;
    }
    Lzma2Dec_Init(&z->dec);
    z->in_off = z->d.hdr.hdr_size + 2U;
    z->in_end = z->d.hdr.hdr_size + z->d.hdr.img_size;
    z->in_pos = z->in_len = 0;
    z->produced = 0;
    z->stage_at = z->ready = z->pend = 0;
    z->started = true;
    z->stats.starts++;
    return TB_OK;
}

/* Decode up to want bytes into out; *got is how many came. At the end of
 * the payload the stream must end too (LZMA2's end marker). */
static int decode(struct tb_decomp *z, uint8_t *out, uint32_t want, uint32_t *got)
{
    *got = 0;
    uint32_t left = z->d.out.img_size - z->produced;
    if (want > left) {
        want = left;
    }
    while (*got < want || z->produced == z->d.out.img_size) {
        if (z->in_pos == z->in_len && z->in_off < z->in_end) {
            uint32_t n = z->in_end - z->in_off < TB_DECOMP_IN ? z->in_end - z->in_off : TB_DECOMP_IN;
            int rc = tb_area_read(&z->src, z->in_off, z->in, n);
            if (rc != TB_OK) {
                return rc;
            }
            z->in_off += n;
            z->in_pos = 0;
            z->in_len = n;
            z->stats.read += n;
        }
        CLzmaDec *ld = &z->dec.decoder;
        if (ld->dicPos == ld->dicBufSize) {
            ld->dicPos = 0; /* the dictionary is a ring: its bytes were handed out already */
        }
        SizeT start = ld->dicPos;
        SizeT room = ld->dicBufSize - start;
        SizeT limit = start + (want - *got < room ? want - *got : room);
        SizeT in_n = z->in_len - z->in_pos;
        ELzmaStatus st;
        bool at_end = z->produced == z->d.out.img_size;
        SRes res = Lzma2Dec_DecodeToDic(&z->dec, limit, z->in + z->in_pos, &in_n,
                                        at_end ? LZMA_FINISH_END : LZMA_FINISH_ANY, &st);
        z->in_pos += (uint32_t)in_n;
        uint32_t n = (uint32_t)(ld->dicPos - start);
        if (res != SZ_OK) {
            return TB_E_IMG_DECODE;
        }
        memcpy(out + *got, ld->dic + start, n);
        *got += n;
        z->produced += n;
        z->stats.decoded += n;
        if (at_end) {
            /* all of the payload is out: only the end marker may follow */
            return st == LZMA_STATUS_FINISHED_WITH_MARK && n == 0 && z->in_pos == z->in_len && z->in_off == z->in_end
                       ? TB_OK
                       : TB_E_IMG_DECODE;
        }
        if (st == LZMA_STATUS_FINISHED_WITH_MARK) {
            return TB_E_IMG_DECODE; /* the stream ended before DECOMP_SIZE bytes */
        }
        if (n == 0 && in_n == 0) {
            return TB_E_IMG_DECODE; /* no progress: the input is used up (truncated) or the decoder stalls */
        }
        if (z->produced == z->d.out.img_size) {
            continue; /* check the end marker now */
        }
    }
    return TB_OK;
}

/* Hand out the next batch of final payload bytes in stage[0, ready). */
static int advance(struct tb_decomp *z)
{
    z->stage_at += z->ready;
    memmove(z->stage, z->stage + z->ready, z->pend);
    uint32_t have = z->pend, got;
    z->ready = z->pend = 0;
    int rc = decode(z, z->stage + have, TB_DECOMP_STAGE - have, &got);
    if (rc != TB_OK) {
        return rc;
    }
    have += got;
    uint32_t done = have;
    if (z->d.arm_thumb && z->produced < z->d.out.img_size) {
        done = (uint32_t)ARMT_Convert(z->stage, have, z->stage_at, 0);
    } else if (z->d.arm_thumb) {
        /* the stream's last batch: convert what holds whole pairs, pass the rest */
        (void)ARMT_Convert(z->stage, have, z->stage_at, 0);
    }
    z->ready = done;
    z->pend = have - done;
    return have == 0 ? TB_E_IMG_DECODE : TB_OK;
}

/* Payload bytes [off, off + len) of the rebuilt image. */
static int read_payload(struct tb_decomp *z, uint32_t off, uint8_t *buf, uint32_t len)
{
    if (z->failed) {
        return TB_E_IMG_DECODE;
    }
    if (!z->started || off < z->stage_at) {
        int rc = restart(z);
        if (rc != TB_OK) {
            return rc;
        }
    }
    while (len > 0) {
        if (off >= z->stage_at + z->ready) {
            int rc = advance(z);
            if (rc != TB_OK) {
                z->failed = rc == TB_E_IMG_DECODE; /* the same stream fails the same way: say so at once next time */
                return rc;
            }
            continue;
        }
        uint32_t at = off - z->stage_at;
        uint32_t n = z->ready - at < len ? z->ready - at : len;
        memcpy(buf, z->stage + at, n);
        buf += n;
        off += n;
        len -= n;
    }
    return TB_OK;
}

static int view_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    struct tb_decomp *z = f->ctx;
    uint8_t *p = buf;
    while (len > 0) {
        uint32_t n;
        int rc = TB_OK;
        if (off < TB_IMAGE_HEADER_SIZE) {
            n = TB_IMAGE_HEADER_SIZE - off < len ? TB_IMAGE_HEADER_SIZE - off : len;
            memcpy(p, z->hdr + off, n);
        } else if (off < z->pay_off) {
            /* the header's padding, as the compressed image has it */
            n = z->pay_off - off < len ? z->pay_off - off : len;
            rc = tb_area_read(&z->src, off, p, n);
        } else if (off < z->pay_end) {
            n = z->pay_end - off < len ? z->pay_end - off : len;
            rc = read_payload(z, off - z->pay_off, p, n);
        } else if (off < z->pay_end + z->d.tlv_len) {
            n = z->pay_end + z->d.tlv_len - off < len ? z->pay_end + z->d.tlv_len - off : len;
            memcpy(p, z->tlv + (off - z->pay_end), n);
        } else {
            n = len;
            memset(p, f->erased_val, n);
        }
        if (rc != TB_OK) {
            return rc;
        }
        p += n;
        off += n;
        len -= n;
    }
    return TB_OK;
}

static int view_program(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    (void)f, (void)off, (void)buf, (void)len;
    return TB_E_UNSUPPORTED; /* a view, not a flash */
}

static int view_erase(const struct tb_flash *f, uint32_t off)
{
    (void)f, (void)off;
    return TB_E_UNSUPPORTED;
}

int tb_decomp_open(const struct tb_area *src, uint32_t size, uint32_t sector_size, uint32_t write_size,
                   uint8_t erased_val, struct tb_area *view)
{
    struct tb_decomp *z = &g_dec;
    if (src == NULL || view == NULL || sector_size == 0 || size < sector_size) {
        return TB_E_INVAL;
    }
    memset(z, 0, sizeof(*z));
    z->src = *src;
    int rc = tb_decomp_describe(src, &z->d, z->tlv, sizeof(z->tlv));
    if (rc != TB_OK) {
        return rc;
    }
    if (z->d.dict_size > TB_DECOMP_DICT_MAX) {
        return TB_E_UNSUPPORTED;
    }
    size -= size % sector_size;
    if (z->d.out_size > size) {
        return TB_E_IMG_TOO_LARGE;
    }
    tb_image_header_encode(&z->d.out, z->hdr);
    z->pay_off = z->d.hdr.hdr_size;
    z->pay_end = z->pay_off + z->d.out.img_size;
    z->flash = (struct tb_flash){.name = "decompressed", .size = size, .sector_size = sector_size,
                                 .write_size = write_size, .erased_val = erased_val, .read = view_read,
                                 .program = view_program, .erase = view_erase, .ctx = z};
    *view = (struct tb_area){&z->flash, 0, size};
    return TB_OK;
}

uint32_t tb_decomp_image_size(void) { return g_dec.d.out_size; }

void tb_decomp_get_stats(struct tb_decomp_stats *st) { *st = g_dec.stats; }
