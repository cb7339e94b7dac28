/* Shared helpers of the nRF5340 drivers: delays, bounded polls, errata
 * selection, the EasyDMA reachability rule. */
#include <stddef.h>

#include "../nrf5340_port.h"
#include "nrf_io.h"
#include "nrf_regs.h"
#include "twinboot/error.h"

void tb_nrf_delay_us(uint32_t us)
{
#ifdef TB_NRF_HOST_MODEL
    tb_nrf_model_delay(us);
#else
    /* No timer is running this early, so count CPU cycles: each iteration
     * takes at least one cycle, and 128 per microsecond is >= 1 us even if
     * a previous image left the app core at 128 MHz (regs §1.2: 64 MHz at
     * reset, up to 128 MHz; the net core runs at 64 MHz). Longer is harmless
     * for every caller. */
    for (uint32_t n = 0; n < us; n++) {
        for (volatile uint32_t i = 0; i < 128u; i++) {
        }
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
