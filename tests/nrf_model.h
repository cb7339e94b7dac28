/* A register-level model of the parts of the nRF5340 the port's drivers
 * touch (NVMC + internal flash, CLOCK, RESET, SPU, GPIO, UARTE0, QSPI + an
 * MX25R6435F), for host tests of port/nrf5340/drivers/ built with
 * -DTB_NRF_HOST_MODEL. It implements tb_nrf_rd / tb_nrf_wr /
 * tb_nrf_model_delay / tb_nrf_ram_addr, advances time only when a driver
 * waits, and counts every rule a driver breaks (a store to flash without
 * Wen, a custom instruction without erratum 43's activation, a QSPI task
 * with the wrong clock dividers, a DMA buffer outside RAM ...), so tests
 * assert both results and the way they were reached. */
#ifndef TB_TEST_NRF_MODEL_H
#define TB_TEST_NRF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define M_LOG_MAX 64
#define M_CI_MAX 4096

struct m_event {
    uint64_t t;   /* model time, us */
    uint32_t off; /* register offset in its block */
    uint32_t val;
};

struct nrf_model {
    uint64_t now_us;

    /* chip identity (FICR+0x130 / +0x134) */
    uint32_t family, rev;

    /* NVMC + internal flash */
    uint8_t *flash;
    uint64_t nvmc_busy_until, nvmc_next_at;
    int nvmc_stuck;           /* READY never comes back */
    int nvmc_weak_bit;        /* programs leave bit 0 of every word set */
    unsigned words_programmed, pages_erased;
    unsigned nvmc_bad_store;  /* store to flash not in Wen/Een, or unaligned erase word */
    unsigned nvmc_early_store; /* word store while READYNEXT = 0 */
    unsigned nvmc_app_only;   /* net flavour: an app-only NVMC register written */

    /* CLOCK */
    int hfxo_missing;
    int hfclk_started;
    uint64_t hfxo_ready_at;

    /* RESET */
    struct m_event rlog[M_LOG_MAX];
    int nrlog;

    /* UARTE0 */
    char tx[8192];
    size_t ntx;
    unsigned tx_bad;          /* TX with wrong set-up, or from a non-RAM buffer */
    int uart_stuck;           /* ENDTX never comes */
    int rxenable_at_start;    /* erratum 44 situation */

    /* QSPI + MX25R6435F */
    uint8_t *ext;
    uint32_t chip_id;
    uint8_t sr;               /* the chip's status register (QE at bit 6) */
    int wel, dpd, sr_locked;
    int protected_;           /* block-protected: programs and erases are ignored */
    uint64_t wip_until;
    int qspi_active;
    int e43_armed;            /* an activation with all pins disconnected since the last custom instruction */
    unsigned e43_violation, e159_violation, qspi_bad, busy_violation, page_cross;
    unsigned dma_direct;      /* READs whose destination was a caller (arena) buffer */
    uint8_t ci_log[M_CI_MAX];
    int nci;
};

extern struct nrf_model M;

/* Fresh chip: erased flashes, registers at reset values, time 0. rev = the
 * revision code (5 = newest). */
void m_reset(uint32_t rev);
/* A block of bytes that stands for application RAM: buffers from here are
 * EasyDMA-reachable at 0x2000_0000 + offset. */
uint8_t *m_arena(size_t off);
/* Mark a buffer as if it lived in flash (not EasyDMA-reachable). */
void m_in_flash(const void *p);
/* A register's current value (by absolute address). */
uint32_t m_reg(uint32_t addr);
void m_set_reg(uint32_t addr, uint32_t val);

#endif
