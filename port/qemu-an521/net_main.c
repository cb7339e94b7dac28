/* The net-core bootloader on QEMU's CPU1, started by the app core (CPUWAIT,
 * then emulated holds and releases: netctl.c). */
#include "an521.h"
#include "semihost.h"
#include "tb_m33.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

static struct tb_q_flash net_fl;

static void net_idle(void)
{
    TB_Q_CTL->net_state = TB_Q_NET_WAITING;
    for (volatile uint32_t i = 0; i < 2000u; i++) {
        tb_q_net_poll();
    }
}

void tb_fw_main(void)
{
    static struct tb_q_args a;
    struct tb_q_ctl *ctl = TB_Q_CTL;
    tb_q_net_poll();
    if (ctl->net_fd > 0) {
        tb_q_flash_attach(&net_fl, ctl->net_fd - 1, "net", 0x40000, 0x800, TB_Q_NET_FLASH_BASE);
    } else if (tb_q_args(&a) != TB_OK ||
               tb_q_flash_open(&net_fl, a.dir, "net.bin", "net", 0x40000, 0x800, TB_Q_NET_FLASH_BASE) != TB_OK) {
        tb_log_str(&tb_q_log, "twinboot-net: cannot open net.bin\n");
        tb_sh_exit(TB_Q_EXIT_FAIL);
    } else {
        ctl->net_fd = net_fl.fd + 1;
    }
    const struct tb_fw_net p = {
        .net = &net_fl.flash,
        .shm = {(volatile uint8_t *)TB_Q_SHM_BASE, TB_NC_WINDOW_OFF + TB_FW_LAYOUT.img[1].primary.size},
        .log = tb_q_log,
        .net_flash_base = TB_Q_NET_FLASH_BASE,
        .poll = tb_q_net_poll,
        .idle = net_idle,
    };
    uint32_t vtor = tb_fw_net_boot(&p);
    struct tb_image_header h;
    const struct tb_area slot = {&net_fl.flash, TB_FW_LAYOUT.img[1].primary.off, TB_FW_LAYOUT.img[1].primary.size};
    if (tb_image_read_header(&slot, &h) != TB_OK ||
        tb_q_flash_mirror(&net_fl, slot.off, (uint32_t)h.hdr_size + h.img_size) != TB_OK) {
        tb_log_str(&tb_q_log, "twinboot-net: cannot map the application\n");
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
    uint32_t used = tb_m33_stack_size() - tb_m33_stack_unused();
    if (used > ctl->net_stack) {
        ctl->net_stack = used;
    }
    tb_q_net_poll();
    tb_m33_jump(vtor);
}
