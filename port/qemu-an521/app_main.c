/* The app-core bootloader on QEMU's CPU0: one run is one reset of the board. */
#include <string.h>

#include "an521.h"
#include "semihost.h"
#include "tb_m33.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

static void save_record(const char *dir, const struct tb_boot_record *rec)
{
    char path[256];
    size_t d = strlen(dir);
    memcpy(path, dir, d);
    memcpy(path + d, "/bootrec.bin", sizeof("/bootrec.bin"));
    int fd = tb_sh_open(path, 5 /* "wb" */);
    if (fd < 0 || tb_sh_write_at(fd, 0, rec, sizeof(*rec)) != 0) {
        tb_log_str(&tb_q_log, "twinboot: cannot write the boot record\n");
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
    (void)tb_sh_close(fd);
}

void tb_fw_main(void)
{
    static struct tb_q_args a;
    static struct tb_fw_app p;
    struct tb_q_ctl *ctl = TB_Q_CTL;
    if (tb_q_args(&a) != TB_OK || strlen(a.dir) + sizeof("/bootrec.bin") > 256) {
        tb_log_str(&tb_q_log, "twinboot: usage: qemu ... -semihosting-config arg=DIR[,arg=cut=TICKS]\n");
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
    ctl->cut_ticks = a.cut_ticks;
    tb_q_clock_start(0, a.cut_ticks);
    if (tb_q_app_port(a.dir, &p) != TB_OK) {
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
    uint32_t vtor = 0;
    int rc = tb_fw_app_boot(&p, &ctl->rec, &vtor);
    if (rc == TB_OK || rc == TB_E_BOOT_NO_IMAGE) {
        save_record(a.dir, &ctl->rec);
    }
    ctl->app_stack = tb_m33_stack_size() - tb_m33_stack_unused();
    if (rc == TB_E_BOOT_NO_IMAGE) {
        tb_sh_exit(TB_Q_EXIT_NO_IMAGE); /* the emulator's "wait for recovery": end the run */
    }
    struct tb_image_header h;
    struct tb_area primary = {p.app, TB_FW_LAYOUT.img[0].primary.off, TB_FW_LAYOUT.img[0].primary.size};
    if (rc == TB_OK) {
        rc = tb_image_read_header(&primary, &h);
    }
    if (rc == TB_OK) {
        rc = tb_q_app_mirror(primary.off, (uint32_t)h.hdr_size + h.img_size);
    }
    if (rc != TB_OK) {
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
    ctl->boot_ticks = tb_q_ticks();
    tb_m33_jump(vtor);
}
