/* The app-core test application (build/fw/qemu/app-test.bin, unsigned: sign
 * it with `twinboot image sign`). It prints the version from its own image
 * header, confirms itself when the run asks (confirm=0|1|all: image_ok in
 * the primary trailer, as Zephyr's boot_write_img_confirmed does; image 1 in
 * the app core's journal), waits for the net core to settle, and ends the run. */
#include "an521.h"
#include "semihost.h"
#include "tb_m33.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

#define NET_SETTLE_TICKS 4000000u /* 200 M instructions */

static void put_version(const char *what, uint32_t hdr_addr)
{
    struct tb_image_header h;
    char v[TB_VERSION_STR_MAX];
    tb_image_header_decode((const uint8_t *)(uintptr_t)hdr_addr, &h);
    tb_version_str(&h.ver, v);
    tb_log_str(&tb_q_log, what);
    tb_log_str(&tb_q_log, v);
}

static void confirm(const struct tb_fw_app *p, int image)
{
    struct tb_device dev;
    tb_fw_app_device(p, &dev);
    const struct tb_boot_config cfg = {.layout = &TB_FW_LAYOUT, .dev = &dev, .max_test_boots = 1,
                                       .net = p->net, .shm = p->shm};
    int rc = tb_boot_confirm(&cfg, image);
    tb_log_str(&tb_q_log, "[app] image ");
    tb_log_u32(&tb_q_log, (uint32_t)image);
    tb_log_str(&tb_q_log, rc == TB_OK ? " confirmed\n" : " NOT confirmed: ");
    if (rc != TB_OK) {
        tb_log_str(&tb_q_log, tb_strerror(rc));
        tb_log_str(&tb_q_log, "\n");
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
}

static void stat_line(const char *what, uint32_t v, const char *unit)
{
    tb_log_str(&tb_q_log, "[stats] ");
    tb_log_str(&tb_q_log, what);
    tb_log_str(&tb_q_log, " ");
    tb_log_u32(&tb_q_log, v);
    tb_log_str(&tb_q_log, unit);
}

void tb_fw_main(void)
{
    static struct tb_q_args a;
    static struct tb_fw_app p;
    struct tb_q_ctl *ctl = TB_Q_CTL;
    tb_q_clock_start(ctl->boot_ticks, ctl->cut_ticks);
    if (tb_q_args(&a) != TB_OK || tb_q_app_port(a.dir, &p) != TB_OK) {
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
    put_version("[app] app-test: image 0 version ",
                TB_Q_APP_FLASH_BASE + TB_FW_LAYOUT.img[0].primary.off);
    tb_log_str(&tb_q_log, ctl->rec.img[0].confirmed ? " runs (confirmed)\n" : " runs (test)\n");
    if (a.confirm0) {
        confirm(&p, 0);
    }
    if (a.confirm1) {
        confirm(&p, 1);
    }
    uint32_t start = tb_q_ticks();
    while (ctl->net_state == TB_Q_NET_BOOTING && tb_q_ticks() - start < NET_SETTLE_TICKS) {
        tb_q_sleep();
    }
    tb_bootlog_net(&tb_q_log, &ctl->rec, ctl->net_state == TB_Q_NET_RUNNING);
    if (a.stats) {
        stat_line("bootloader-instructions", ctl->boot_ticks * TB_Q_INSNS_PER_TICK, "\n");
        stat_line("run-instructions", tb_q_ticks() * TB_Q_INSNS_PER_TICK, "\n");
        stat_line("app-bootloader-stack", ctl->app_stack, " bytes\n");
        stat_line("net-bootloader-stack", ctl->net_stack, " bytes\n");
    }
    tb_sh_exit(TB_Q_EXIT_OK);
}
