/* The net-core bootloader for the nRF5340 DK: out of every release of
 * FORCEOFF it runs lib/netboot.c on its NVMC and the shared RAM, and jumps
 * to its application once that validates. */
#include "fw_nrf.h"
#include "nrf5340_port.h"
#include "tb_fw.h"
#include "tb_m33.h"
#include "twinboot/error.h"

static void console(void *ctx, const char *s, uint32_t len)
{
    (void)ctx;
    tb_nrf_console_write(s, len);
}

static void idle(void) { tb_nrf_delay_us(100); }

void tb_fw_main(void)
{
    static struct tb_flash net;
    const struct tb_log log = {console, NULL};
    (void)tb_nrf_console_init(); /* output is dropped if the net core has no console */
    if (tb_nrf_nvmc_init(&net) != TB_OK) {
        tb_log_str(&log, "twinboot-net: NVMC set-up failed\n");
        for (;;) {
            idle();
        }
    }
    const struct tb_fw_net p = {
        .net = &net,
        .shm = {(volatile uint8_t *)tb_layout_nrf5340_dk_shmem_base, tb_layout_nrf5340_dk_shmem_size},
        .log = log,
        .net_flash_base = TB_NRF_NET_FLASH_BASE,
        .poll = NULL, /* FORCEOFF resets this core: nothing to poll */
        .idle = idle,
    };
    uint32_t vtor = tb_fw_net_boot(&p);
    (void)tb_nrf_console_deinit();
    tb_m33_jump(vtor);
}
