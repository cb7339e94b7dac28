/* Shared helpers of the nRF5340 drivers: delays, bounded polls, errata
 * selection, the EasyDMA reachability rule. */
#include <stddef.h>

#include "../nrf5340_port.h"
#include "nrf_io.h"
#include "nrf_regs.h"
#include "twinboot/error.h"

#ifndef TB_NRF_HOST_MODEL
/* SysTick (Cortex-M33 core, regs §1.5 / CMSIS core_cm33.h [C1]): CSR,
 * reload and current value. Used as a free-running 24-bit cycle counter,
 * without its interrupt; the jump to the application switches it off. */
#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define SYST_CSR_RUN 0x5u       /* ENABLE | CLKSOURCE = processor clock; TICKINT off */
#define SYST_MAX 0x00FFFFFFu
/* Both cores run at 64 MHz here: the net core always, the app core from
 * reset and after tb_nrf_clock_init (HFCLKCTRL /2, regs §1.2, §3.3). */
#define CYCLES_PER_US 64u
#endif

void tb_nrf_delay_us(uint32_t us)
{
#ifdef TB_NRF_HOST_MODEL
    tb_nrf_model_delay(us);
#else
    if ((tb_nrf_rd(SYST_CSR) & SYST_CSR_RUN) != SYST_CSR_RUN || tb_nrf_rd(SYST_RVR) != SYST_MAX) {
        tb_nrf_wr(SYST_RVR, SYST_MAX); /* full 24-bit reload */
        tb_nrf_wr(SYST_CVR, 0u); /* any write clears the counter */
        tb_nrf_wr(SYST_CSR, SYST_CSR_RUN); /* run on the CPU clock, no interrupt */
    }
    while (us > 0) {
        const uint32_t chunk = us > 1000000u ? 1000000u : us;
        const uint32_t need = chunk * CYCLES_PER_US;
        uint32_t last = tb_nrf_rd(SYST_CVR), elapsed = 0;
        /* Each pass takes at least one cycle, so the guard ends the wait
         * after >= need cycles even if the counter were not running. */
        for (uint32_t guard = 0; elapsed < need && guard < need; guard++) {
            const uint32_t now = tb_nrf_rd(SYST_CVR);
            elapsed += (last - now) & SYST_MAX; /* it counts down, wrapping at 24 bits */
            last = now;
        }
        us -= chunk;
    }
#endif
}

int tb_nrf_poll(uint32_t addr, uint32_t mask, uint32_t want, uint32_t timeout_us, uint32_t step_us)
{
    uint32_t waited = 0;
    if (step_us == 0) {
        step_us = 1;
    }
    for (;;) {
        if ((tb_nrf_rd(addr) & mask) == want) {
            return TB_OK;
        }
        if (waited >= timeout_us) {
            return TB_E_IO;
        }
        tb_nrf_delay_us(step_us);
        waited += step_us;
    }
}

uint32_t tb_nrf_rev_code(void)
{
    /* nrfx's errata checks read FICR+0x130 (0x07 on the nRF5340) and the
     * undocumented revision code at FICR+0x134 (regs conventions, N8). */
    if (tb_nrf_rd(TB_NRF_FICR + TB_FICR_FAMILY) != 0x07u) {
        return 0xFFFFFFFFu;
    }
    uint32_t rev = tb_nrf_rd(TB_NRF_FICR + TB_FICR_REVCODE);
    /* codes 2..5 are known; any other value is nrfx's default branch, taken
     * here as the newest silicon (so "rev >= 5" workarounds apply) */
    return (rev >= 2u && rev <= 5u) ? rev : 0xFFFFFFFFu;
}

int tb_nrf_in_ram(uint32_t addr, uint32_t len)
{
    /* EasyDMA reaches RAM only (regs §3.2, §5.3): the core's own RAM. */
#ifdef TB_NRF_NETCORE
    const uint32_t base = 0x21000000u, size = 0x00010000u; /* regs §1.1 */
#else
    const uint32_t base = TB_NRF_APP_RAM, size = TB_NRF_APP_RAM_SIZE;
#endif
    return addr >= base && addr - base <= size && len <= size - (addr - base);
}
