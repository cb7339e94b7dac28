/* The flash interface: everything device-side code knows about a flash part.
 *
 * A port (the nRF5340 NVMC, the QSPI NOR, the simulator) fills one struct
 * tb_flash per part: its geometry and three callbacks. Device code never
 * touches hardware any other way, which is what lets the same boot engine run
 * in the simulator and on the chip.
 *
 * Rules every implementation follows and every caller may rely on:
 *  - erase works on one whole sector and sets every byte to erased_val;
 *  - program only clears bits; off and len are multiples of write_size;
 *  - a write block is programmed at most once between erases (real NVMC
 *    words give undefined data otherwise; the simulator reports
 *    TB_E_REPROGRAM);
 *  - callbacks return TB_OK or a negative tb_err.
 */
#ifndef TWINBOOT_FLASH_H
#define TWINBOOT_FLASH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct tb_flash {
    const char *name;     /* for messages: "app", "net", "qspi" */
    uint32_t size;        /* bytes */
    uint32_t sector_size; /* erase unit, bytes (uniform) */
    uint32_t write_size;  /* program unit, bytes (power of two) */
    uint8_t erased_val;   /* 0xff on NOR */

    int (*read)(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len);
    int (*program)(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len);
    int (*erase)(const struct tb_flash *f, uint32_t sector_off);

    void *ctx; /* the port's own state */

    /* Where the part appears in the address space when it is memory-mapped
     * (the nRF5340's internal flash, a buffer in the host tools), else NULL.
     * Only pure signatures use it: they verify the image bytes in place, as
     * MCUboot does (MCUBOOT_SIGN_PURE needs a mapped flash too). */
    const uint8_t *mapped;
};

/* A window of a flash part (a slot, a status area). All accesses through an
 * area are bounds-checked against it: no read ever leaves the area. */
struct tb_area {
    const struct tb_flash *flash;
    uint32_t off;  /* start on the part, sector-aligned */
    uint32_t size; /* bytes, a multiple of the sector size */
};

/* Checked accessors; offsets are relative to the area. */
int tb_area_read(const struct tb_area *a, uint32_t off, void *buf, uint32_t len);
int tb_area_program(const struct tb_area *a, uint32_t off, const void *buf, uint32_t len);
/* Erase the sectors covering [off, off+len); both must be sector-aligned. */
int tb_area_erase(const struct tb_area *a, uint32_t off, uint32_t len);
/* TB_OK if [off, off+len) lies inside the area (overflow-safe). */
int tb_area_check(const struct tb_area *a, uint32_t off, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif
