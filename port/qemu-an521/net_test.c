/* The net-core test application (build/fw/qemu/net-test.bin, unsigned). It
 * prints the version from its own image header, says it runs, and then only
 * answers the app core's hold (an emulated reset), like a BLE controller
 * idling. */
#include "an521.h"
#include "tb_m33.h"
#include "twinboot/image.h"

void tb_fw_main(void)
{
    struct tb_q_ctl *ctl = TB_Q_CTL;
    struct tb_image_header h;
    char v[TB_VERSION_STR_MAX];
    tb_image_header_decode((const uint8_t *)(uintptr_t)(TB_Q_NET_FLASH_BASE + TB_FW_LAYOUT.img[1].primary.off), &h);
    tb_version_str(&h.ver, v);
    tb_log_str(&tb_q_log, "[net] net-test: image 1 version ");
    tb_log_str(&tb_q_log, v);
    tb_log_str(&tb_q_log, " runs\n");
    ctl->net_ver = h.ver;
    ctl->net_ver_valid = 1;
    ctl->net_state = TB_Q_NET_RUNNING;
    for (;;) {
        tb_q_net_poll();
    }
}
