/* App core: holding and releasing the net core (RESET.NETWORK.FORCEOFF,
 * regs §4.1), the SPU settings that let it reach the shared RAM (regs §4.2),
 * and handing it the console pins (regs §4.3). */
#include <stddef.h>

#include "../nrf5340_port.h"
#include "nrf_io.h"
#include "nrf_regs.h"
#include "twinboot/error.h"

#ifdef TB_NRF_NETCORE

/* The net core has no FORCEOFF, SPU or pin ownership of its own. */
int tb_nrf_spu_share_ram(uint32_t addr, uint32_t size)
{
    (void)addr;
    (void)size;
    return TB_E_UNSUPPORTED;
}
int tb_nrf_spu_unshare(void) { return TB_E_UNSUPPORTED; }
int tb_nrf_console_forward_net(int on)
{
    (void)on;
    return TB_E_UNSUPPORTED;
}
int tb_nrf_netctl_init(struct tb_netctl *nc)
{
    (void)nc;
    return TB_E_UNSUPPORTED;
}

#else

static int nc_hold(void *ctx)
{
    (void)ctx;
    tb_nrf_wr(TB_NRF_RESET + TB_RESET_FORCEOFF, 1u); /* regs §4.1: holding is one write of 1 */
    return TB_OK;
}

static int nc_release(void *ctx)
{
    (void)ctx;
    uint32_t rev = tb_nrf_rev_code();
    if (rev != 0xFFFFFFFFu && rev < 5u) {
        tb_nrf_wr(TB_NRF_RESET + TB_RESET_FORCEOFF, 0u); /* regs §4.1: without erratum 161 */
        return TB_OK;
    }
    /* Erratum 161 (rev code >= 5), nrfx's order (regs §4.1 steps 1-5) */
    tb_nrf_wr(TB_NRF_RESET + TB_RESET_ERRATUM161, 1u); /* 1 */
    tb_nrf_wr(TB_NRF_RESET + TB_RESET_FORCEOFF, 0u);   /* 2: release ... */
    tb_nrf_delay_us(5u);                               /*    ... 5 us */
    tb_nrf_wr(TB_NRF_RESET + TB_RESET_FORCEOFF, 1u);   /* 3: hold ... */
    tb_nrf_delay_us(1u);                               /*    ... 1 us */
    tb_nrf_wr(TB_NRF_RESET + TB_RESET_FORCEOFF, 0u);   /* 4: release */
    tb_nrf_wr(TB_NRF_RESET + TB_RESET_ERRATUM161, 0u); /* 5 */
    return TB_OK;
}

static int nc_wait(void *ctx, uint32_t us)
{
    (void)ctx;
    tb_nrf_delay_us(us); /* the net core runs on its own; the app core just lets time pass */
    return TB_OK;
}

int tb_nrf_netctl_init(struct tb_netctl *nc)
{
    if (nc == NULL) {
        return TB_E_INVAL;
    }
    nc->hold = nc_hold;
    nc->release = nc_release;
    nc->wait = nc_wait;
    nc->ctx = NULL;
    return TB_OK;
}

int tb_nrf_spu_share_ram(uint32_t addr, uint32_t size)
{
    if (size == 0 || !tb_nrf_in_ram(addr, size)) {
        return TB_E_RANGE; /* only app RAM has SPU RAM regions (regs §4.2) */
    }
    /* App RAM and flash are secure at reset (PERM 0x17) and the net core's
     * accesses are non-secure (EXTDOMAIN reset), so it is blocked: make its
     * accesses secure, as Zephyr and NCS do before releasing it (regs §4.2). */
    uint32_t ext = tb_nrf_rd(TB_NRF_SPU + TB_SPU_EXTDOMAIN0);
    if ((ext & TB_SPU_PERM_LOCK) != 0 && (ext & TB_SPU_PERM_SECATTR) == 0) {
        return TB_E_IO; /* locked non-secure until the next reset */
    }
    tb_nrf_wr(TB_NRF_SPU + TB_SPU_EXTDOMAIN0, TB_SPU_PERM_SECATTR); /* SECATTR bit 4, no LOCK */
    if ((tb_nrf_rd(TB_NRF_SPU + TB_SPU_EXTDOMAIN0) & TB_SPU_PERM_SECATTR) == 0) {
        return TB_E_IO;
    }
    /* The 8 KiB regions of the window: readable and writable (the command
     * block's response half is written by the net core). Never LOCKed: the
     * application image may want them back (regs §8.4). */
    const uint32_t first = (addr - TB_NRF_APP_RAM) / TB_SPU_RAMREGION_SIZE;
    const uint32_t last = (addr - TB_NRF_APP_RAM + size - 1u) / TB_SPU_RAMREGION_SIZE;
    const uint32_t rw = TB_SPU_PERM_READ | TB_SPU_PERM_WRITE;
    for (uint32_t n = first; n <= last; n++) {
        uint32_t perm = tb_nrf_rd(TB_NRF_SPU + TB_SPU_RAMREGION(n));
        if ((perm & rw) == rw) {
            continue;
        }
        if ((perm & TB_SPU_PERM_LOCK) != 0) {
            return TB_E_IO;
        }
        tb_nrf_wr(TB_NRF_SPU + TB_SPU_RAMREGION(n), perm | rw); /* regs §4.2 READ bit 2, WRITE bit 1 */
    }
    return TB_OK;
}

int tb_nrf_spu_unshare(void)
{
    /* NCS's PCD puts the net core back to non-secure after an update (regs §4.2) */
    uint32_t ext = tb_nrf_rd(TB_NRF_SPU + TB_SPU_EXTDOMAIN0);
    if ((ext & TB_SPU_PERM_LOCK) != 0) {
        return (ext & TB_SPU_PERM_SECATTR) == 0 ? TB_OK : TB_E_IO;
    }
    tb_nrf_wr(TB_NRF_SPU + TB_SPU_EXTDOMAIN0, 0u); /* SECATTR 0: non-secure */
    return TB_OK;
}

int tb_nrf_console_forward_net(int on)
{
    /* P1.00 (RX) and P1.01 (TX), the net core's uart0 (regs §5.1); MCUSEL
     * bits 30:28 = 1 gives a pin to the net core, settable only by secure
     * app code (regs §4.3). Off: the reset value (MCUSEL = AppMCU). */
    const uint32_t cnf = on ? (TB_GPIO_MCUSEL_NET << TB_GPIO_MCUSEL_SHIFT) | TB_GPIO_PIN_CNF_RESET
                            : TB_GPIO_PIN_CNF_RESET;
    tb_nrf_wr(TB_NRF_GPIO_P1 + TB_GPIO_PIN_CNF(0), cnf); /* P1.00: 0x5084_2A00 (regs §5.1) */
    tb_nrf_wr(TB_NRF_GPIO_P1 + TB_GPIO_PIN_CNF(1), cnf); /* P1.01: 0x5084_2A04 */
    return TB_OK;
}

#endif
