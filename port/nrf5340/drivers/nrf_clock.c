/* HFCLK start-up from the 32 MHz crystal (regs §6.1). Peripherals work from
 * HFINT without it; the crystal gives the UARTE its baud accuracy and is
 * what a Zephyr image expects to find running or to start itself. */
#include "../nrf5340_port.h"
#include "nrf_io.h"
#include "nrf_regs.h"
#include "twinboot/error.h"

/* HFXO start-up is well under a millisecond on the DK; the bound only keeps
 * a missing crystal from hanging the boot. */
#define HFXO_TIMEOUT_US 20000u

int tb_nrf_clock_init(void)
{
#ifndef TB_NRF_NETCORE
    /* CPU at 64 MHz (HFCLKCTRL /2, its reset value): erratum 159 wants it
     * while QSPI is used (regs §3.3), and tb_nrf_delay_us assumes <= 128. */
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_HFCLKCTRL, 1u); /* regs §3.3: HFCLKCTRL 1 = /2 */
#endif
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_HFCLKSRC, 1u);             /* regs §6.1: 1 = HFXO */
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_EVENTS_HFCLKSTARTED, 0u);  /* clear before the task */
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_TASKS_HFCLKSTART, 1u); /* regs §6.1 sequence */
    int rc = tb_nrf_poll(TB_NRF_CLOCK + TB_CLK_EVENTS_HFCLKSTARTED, 1u, 1u, HFXO_TIMEOUT_US, 10u);
    if (rc != TB_OK) {
        return rc;
    }
    /* HFCLKSTAT = STATE running (bit 16) with SRC HFXO (bit 0) */
    return tb_nrf_poll(TB_NRF_CLOCK + TB_CLK_HFCLKSTAT, 0x00010001u, 0x00010001u, HFXO_TIMEOUT_US, 10u);
}

int tb_nrf_clock_deinit(void)
{
    /* as sdk-mcuboot before the jump (regs §1.5, §6.1): HFCLKSTOP, INTENCLR all */
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_INTENCLR, 0xFFFFFFFFu); /* CLOCK INTENCLR all */
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_TASKS_HFCLKSTOP, 1u); /* regs §6.1 TASKS_HFCLKSTOP */
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_EVENTS_HFCLKSTARTED, 0u); /* leave no stale event */
    return TB_OK;
}
