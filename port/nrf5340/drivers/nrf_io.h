/* Register and memory access for the nRF5340 drivers.
 *
 * Every hardware access of the drivers goes through tb_nrf_rd / tb_nrf_wr
 * with a physical address. On the chip they are volatile loads and stores;
 * a host build with -DTB_NRF_HOST_MODEL links them to a register model
 * instead (tests/test_nrf_drivers.c), which sees every access in order and
 * so can check sequences, not just final values. */
#ifndef TB_NRF_IO_H
#define TB_NRF_IO_H

#include <stdint.h>

#ifdef TB_NRF_HOST_MODEL

uint32_t tb_nrf_rd(uint32_t addr);
void tb_nrf_wr(uint32_t addr, uint32_t val);
/* Time passes in the model (tb_nrf_delay_us calls it). */
void tb_nrf_model_delay(uint32_t us);
/* A RAM buffer's bus address, as EasyDMA would be given it. */
uint32_t tb_nrf_ram_addr(const void *p);
static inline void tb_nrf_dmb(void) {}
static inline void tb_nrf_isb(void) {}

#else

static inline uint32_t tb_nrf_rd(uint32_t addr)
{
    return *(volatile const uint32_t *)(uintptr_t)addr;
}
static inline void tb_nrf_wr(uint32_t addr, uint32_t val)
{
    *(volatile uint32_t *)(uintptr_t)addr = val;
}
static inline uint32_t tb_nrf_ram_addr(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}
/* nrfx issues a DMB after each NVMC word store (regs §2.3). */
static inline void tb_nrf_dmb(void) { __asm__ volatile("dmb 0xF" ::: "memory"); }
static inline void tb_nrf_isb(void) { __asm__ volatile("isb 0xF" ::: "memory"); }

#endif

/* Poll until (rd(addr) & mask) == want, checking at least every step_us and
 * giving up after timeout_us: TB_OK or TB_E_IO. */
int tb_nrf_poll(uint32_t addr, uint32_t mask, uint32_t want, uint32_t timeout_us, uint32_t step_us);

/* Errata selection from FICR (regs §0 conventions, N8): part family at
 * FICR+0x130 (0x07 for the nRF5340) and the revision code at FICR+0x134.
 * Codes 2..5 are known; anything else takes nrfx's default branch, which we
 * take to be "newest silicon" (so the rev >= 5 workarounds apply). */
uint32_t tb_nrf_rev_code(void);

/* True when a RAM buffer can be given to EasyDMA (regs §3.2, §5.3: RAM only). */
int tb_nrf_in_ram(uint32_t addr, uint32_t len);

#endif
