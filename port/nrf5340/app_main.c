/* The app-core bootloader for the nRF5340 DK: clock, console, flashes, the
 * net core's reset line and the shared RAM, then the boot engine; then the
 * peripherals back to their reset state and the jump. */
#include "fw_nrf.h"
#include "twinboot/decompress.h"
#include "nrf5340_port.h"
#include "tb_fw.h"
#include "tb_m33.h"
#include "twinboot/error.h"

static void console(void *ctx, const char *s, uint32_t len)
{
    (void)ctx;
    tb_nrf_console_write(s, len);
}

static void halt(void)
{
    for (;;) {
        __asm__ volatile("wfe");
    }
}

void tb_fw_main(void)
{
    static struct tb_flash app, qspi;
    static struct tb_netctl net;
    static struct tb_boot_record rec;
    const struct tb_log log = {console, NULL};
    const uint32_t shm_base = tb_layout_nrf5340_dk_shmem_base, shm_size = tb_layout_nrf5340_dk_shmem_size;

    (void)tb_nrf_clock_init(); /* on the RC oscillator if the crystal fails: slower, still correct */
    (void)tb_nrf_console_init();
    int rc = tb_nrf_nvmc_init(&app);
    if (rc == TB_OK) {
        rc = tb_nrf_qspi_init(&qspi);
    }
    if (rc == TB_OK) {
        rc = tb_nrf_netctl_init(&net);
    }
    if (rc == TB_OK) {
        rc = tb_nrf_spu_share_ram(shm_base, shm_size);
    }
    /* the build placed the decoder's RAM clear of the shared region and inside app RAM */
    _Static_assert(TB_NRF_DECOMP_BASE + TB_DECOMP_RAM <= TB_NRF_RAM_END, "LZMA decoder RAM past the end of app RAM");
    if (rc == TB_OK && (shm_size < TB_NC_WINDOW_OFF + TB_FW_LAYOUT.img[1].primary.size ||
                        (shm_base < TB_NRF_DECOMP_BASE + TB_DECOMP_RAM && TB_NRF_DECOMP_BASE < shm_base + shm_size))) {
        rc = TB_E_BOOT_LAYOUT;
    }
    tb_decomp_set_arena((void *)TB_NRF_DECOMP_BASE, TB_DECOMP_RAM);
    if (rc != TB_OK) {
        tb_log_str(&log, "twinboot: hardware set-up failed: ");
        tb_log_str(&log, tb_strerror(rc));
        tb_log_str(&log, "\n");
        halt();
    }
    const struct tb_fw_app p = {
        .app = &app,
        .qspi = &qspi,
        .net = &net,
        .shm = {(volatile uint8_t *)shm_base, shm_size},
        .keys = {tb_fw_keys, tb_fw_nkeys},
        .log = log,
        .app_flash_base = TB_NRF_APP_FLASH_BASE,
    };
    uint32_t vtor = 0;
    rc = tb_fw_app_boot(&p, &rec, &vtor);
    if (rc != TB_OK) {
        halt(); /* no bootable image or a flash error: wait, never reset-loop */
    }
    (void)tb_nrf_qspi_deinit();
    (void)tb_nrf_console_deinit();
    (void)tb_nrf_clock_deinit();
    tb_m33_jump(vtor);
}
