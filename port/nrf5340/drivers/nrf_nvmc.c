/* This core's internal flash through its NVMC, as a tb_flash.
 *
 * Facts (regs §2): program by 32-bit words only, with CONFIG = Wen and
 * READYNEXT polled before each word; erase a page by writing 0xFFFFFFFF to
 * its first word with CONFIG = Een (the nRF53 NVMC has no ERASEPAGE
 * register); READY = 1 before reading or switching mode; CONFIG back to Ren
 * afterwards. The app core runs secure, so it writes CONFIG (secure flash)
 * and CONFIGNS (non-secure flash) together, as nrfx does when secure. */
#include <stddef.h>
#include <string.h>

#include "../nrf5340_port.h"
#include "nrf_io.h"
#include "nrf_regs.h"
#include "twinboot/error.h"

/* Per-word and per-page limits for the bounded polls. nrfx's page-erase
 * constant for the nRF53 is 87 ms (regs §2.2); the word bound is generous
 * (the PS's tWRITE, 41 us in docs/nrf5340-facts.md, is far below it). */
#define NVMC_WORD_TIMEOUT_US 1000u
#define NVMC_ERASE_TIMEOUT_US 350000u /* 4 x 87 ms */
#define NVMC_ERASE_POLL_US 50u

static void nvmc_mode(uint32_t wen)
{
    tb_nrf_wr(TB_NRF_NVMC + TB_NVMC_CONFIG, wen); /* regs §2.1 CONFIG.WEN */
#ifndef TB_NRF_NETCORE
    tb_nrf_wr(TB_NRF_NVMC + TB_NVMC_CONFIGNS, wen); /* regs §2.1: secure nrfx sets CONFIGNS too */
#endif
}

static int nvmc_ready(uint32_t timeout_us, uint32_t step_us)
{
    return tb_nrf_poll(TB_NRF_NVMC + TB_NVMC_READY, 1u, 1u, timeout_us, step_us); /* regs §2.1 READY */
}

static int nvmc_check(const struct tb_flash *f, uint32_t off, uint32_t len)
{
    if (f == NULL || off > f->size || len > f->size - off) {
        return TB_E_RANGE;
    }
    return TB_OK;
}

/* Flash is read with plain loads once READY = 1 (regs §2.3); words where
 * possible, through the same accessor the host model sees. */
static void nvmc_copy_out(uint32_t addr, uint8_t *dst, uint32_t len)
{
    while (len > 0 && (addr & 3u) != 0) {
        *dst++ = (uint8_t)(tb_nrf_rd(addr & ~3u) >> (8u * (addr & 3u)));
        addr++;
        len--;
    }
    while (len >= 4) {
        uint32_t w = tb_nrf_rd(addr);
        memcpy(dst, &w, 4); /* little-endian, like the flash (regs conventions) */
        dst += 4;
        addr += 4;
        len -= 4;
    }
    while (len > 0) {
        *dst++ = (uint8_t)(tb_nrf_rd(addr & ~3u) >> (8u * (addr & 3u)));
        addr++;
        len--;
    }
}

static int nvmc_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    int rc = nvmc_check(f, off, len);
    if (rc != TB_OK) {
        return rc;
    }
    if (len == 0) {
        return TB_OK;
    }
    if (buf == NULL) {
        return TB_E_INVAL;
    }
    rc = nvmc_ready(NVMC_ERASE_TIMEOUT_US, NVMC_ERASE_POLL_US);
    if (rc != TB_OK) {
        return rc;
    }
    nvmc_copy_out(TB_NRF_FLASH_BASE + off, buf, len);
    return TB_OK;
}

static int nvmc_program(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    int rc = nvmc_check(f, off, len);
    if (rc != TB_OK) {
        return rc;
    }
    if ((off & 3u) != 0 || (len & 3u) != 0) {
        return TB_E_ALIGN; /* words only (regs §2.3) */
    }
    if (len == 0) {
        return TB_OK;
    }
    if (buf == NULL) {
        return TB_E_INVAL;
    }
    rc = nvmc_ready(NVMC_ERASE_TIMEOUT_US, NVMC_ERASE_POLL_US); /* a previous erase has finished */
    if (rc != TB_OK) {
        return rc;
    }
    const uint8_t *src = buf;
    nvmc_mode(TB_NVMC_WEN); /* regs §2.3 word write, step 1 */
    for (uint32_t i = 0; i < len && rc == TB_OK; i += 4) {
        uint32_t w;
        memcpy(&w, src + i, 4); /* buf need not be aligned */
        /* step 2: READYNEXT (READY only on nRF52 erratum 233 parts) */
        rc = tb_nrf_poll(TB_NRF_NVMC + TB_NVMC_READYNEXT, 1u, 1u, NVMC_WORD_TIMEOUT_US, 1u);
        if (rc == TB_OK) {
            tb_nrf_wr(TB_NRF_FLASH_BASE + off + i, w); /* step 3: one aligned word store ... */
            tb_nrf_dmb();                              /* ... then DMB */
        }
    }
    /* READY = 1 before relying on the data (nrfx_nvmc_write_done_check) */
    int rc2 = nvmc_ready(NVMC_WORD_TIMEOUT_US, 1u);
    nvmc_mode(TB_NVMC_REN); /* step 4: back to read-only, also after a failure */
    if (rc != TB_OK) {
        return rc;
    }
    if (rc2 != TB_OK) {
        return rc2;
    }
    /* Read back: a word that does not hold what was written (a worn or
     * locked page, a word programmed twice) is an I/O error, not silence. */
    for (uint32_t i = 0; i < len; i += 4) {
        uint32_t w;
        memcpy(&w, src + i, 4);
        if (tb_nrf_rd(TB_NRF_FLASH_BASE + off + i) != w) {
            return TB_E_IO;
        }
    }
    return TB_OK;
}

static int nvmc_erase(const struct tb_flash *f, uint32_t sector_off)
{
    int rc = nvmc_check(f, sector_off, TB_NRF_FLASH_PAGE);
    if (rc != TB_OK) {
        return rc;
    }
    if (sector_off % TB_NRF_FLASH_PAGE != 0) {
        return TB_E_ALIGN; /* the erase word must be page-aligned (regs §2.3) */
    }
    rc = nvmc_ready(NVMC_ERASE_TIMEOUT_US, NVMC_ERASE_POLL_US);
    if (rc != TB_OK) {
        return rc;
    }
    const uint32_t addr = TB_NRF_FLASH_BASE + sector_off;
    nvmc_mode(TB_NVMC_EEN);           /* regs §2.3 page erase, step 1 */
    tb_nrf_wr(addr, 0xFFFFFFFFu);     /* step 2: 0xFFFFFFFF to the page's first word */
    tb_nrf_dmb();
    rc = nvmc_ready(NVMC_ERASE_TIMEOUT_US, NVMC_ERASE_POLL_US); /* step 3 */
    nvmc_mode(TB_NVMC_REN);           /* step 4 */
    if (rc != TB_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < TB_NRF_FLASH_PAGE; i += 4) {
        if (tb_nrf_rd(addr + i) != 0xFFFFFFFFu) {
            return TB_E_IO; /* the page did not erase (protected by the ACL/SPU?) */
        }
    }
    return TB_OK;
}

int tb_nrf_nvmc_init(struct tb_flash *f)
{
    if (f == NULL) {
        return TB_E_INVAL;
    }
    memset(f, 0, sizeof(*f));
#ifdef TB_NRF_NETCORE
    f->name = "net";
#else
    f->name = "app";
#endif
    f->size = TB_NRF_FLASH_SIZE;        /* regs §1.1, §2.2 */
    f->sector_size = TB_NRF_FLASH_PAGE;
    f->write_size = 4u;                 /* words only; Zephyr DT write-block-size 4 (regs §2.2) */
    f->erased_val = 0xFFu;
    f->read = nvmc_read;
    f->program = nvmc_program;
    f->erase = nvmc_erase;
    f->ctx = NULL;
    /* Leave the NVMC read-only, whatever a previous image left it in, once
     * anything it started has finished. */
    int rc = nvmc_ready(NVMC_ERASE_TIMEOUT_US, NVMC_ERASE_POLL_US);
    nvmc_mode(TB_NVMC_REN);
    return rc;
}
