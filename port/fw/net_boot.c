/* The net-core bootloader, board-independent: lib/netboot.c's step machine
 * on this core's flash and the shared region, until its application
 * validates. */
#include "tb_fw.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

static struct tb_netboot nb;

uint32_t tb_fw_net_boot(const struct tb_fw_net *p)
{
    struct tb_device dev = {.nflash = 2};
    struct tb_area app;
    dev.flashes[1] = p->net;
    int rc = tb_region_area(&dev, &TB_FW_LAYOUT.img[1].primary, &app);
    if (rc != TB_OK) {
        tb_log_str(&p->log, "twinboot-net: no net image slot in the layout\n");
        for (;;) {
            p->idle();
        }
    }
    tb_netboot_init(&nb, &app, &p->shm);
    tb_netboot_reset(&nb);
    bool told = false;
    for (;;) {
        if (p->poll != NULL) {
            p->poll();
        }
        int st = tb_netboot_step(&nb);
        if (st == TB_NB_JUMP) {
            struct tb_image_header h;
            if (tb_image_read_header(&app, &h) == TB_OK) {
                return p->net_flash_base + app.off + h.hdr_size;
            }
            st = TB_E_IO;
        }
        if (st < 0 && !told) {
            tb_log_str(&p->log, "twinboot-net: ");
            tb_log_str(&p->log, tb_strerror(st));
            tb_log_str(&p->log, "\n");
            told = true;
        }
        if (st == TB_NB_IDLE || st < 0) {
            p->idle();
        }
    }
}
