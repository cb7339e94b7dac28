/* The app core's devices on the an521 (shared by the bootloader and the app
 * test application): the app flash and the QSPI as device-directory files,
 * the net core's reset line, the shared region, the trusted keys. */
#include <string.h>

#include "an521.h"
#include "semihost.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

static struct tb_q_flash app_fl, qspi_fl;
static struct tb_netctl netctl;

/* The keys the CLI provisions for this run (DIR/trusted.bin: per key a
 * little-endian u16 type, u16 length and the DER), as a board would carry
 * them in its bootloader image. */
#define MAX_KEYS 8
static struct tb_key keys[MAX_KEYS];
static uint8_t key_buf[4096];

static size_t load_keys(const char *dir)
{
    char path[256];
    size_t d = strlen(dir), n = 0;
    if (d + sizeof("/trusted.bin") > sizeof(path)) {
        return 0;
    }
    memcpy(path, dir, d);
    memcpy(path + d, "/trusted.bin", sizeof("/trusted.bin"));
    int fd = tb_sh_open(path, 1 /* "rb" */);
    if (fd < 0) {
        return 0;
    }
    uint32_t off = 0;
    uint8_t h[4];
    while (n < MAX_KEYS && tb_sh_read_at(fd, off, h, 4) == 0) {
        uint16_t type = (uint16_t)(h[0] | h[1] << 8), len = (uint16_t)(h[2] | h[3] << 8);
        uint32_t at = off + 4u;
        size_t used = n == 0 ? 0 : (size_t)(keys[n - 1].der + keys[n - 1].der_len - key_buf);
        if (len == 0 || used + len > sizeof(key_buf) || tb_sh_read_at(fd, at, key_buf + used, len) != 0) {
            break;
        }
        keys[n++] = (struct tb_key){type, key_buf + used, len};
        off = at + len;
    }
    (void)tb_sh_close(fd);
    return n;
}

int tb_q_app_port(const char *dir, struct tb_fw_app *p)
{
    int rc = tb_q_flash_open(&app_fl, dir, "app.bin", "app", 0x100000, 0x1000, TB_Q_APP_FLASH_BASE);
    if (rc == TB_OK) {
        rc = tb_q_flash_open(&qspi_fl, dir, "qspi.bin", "qspi", 0x800000, 0x1000, 0);
    }
    if (rc != TB_OK) {
        tb_log_str(&tb_q_log, "twinboot: cannot open the flash files in ");
        tb_log_str(&tb_q_log, dir);
        tb_log_str(&tb_q_log, "\n");
        return rc;
    }
    tb_q_netctl_init(&netctl);
    *p = (struct tb_fw_app){
        .app = &app_fl.flash,
        .qspi = &qspi_fl.flash,
        .net = &netctl,
        .shm = {(volatile uint8_t *)TB_Q_SHM_BASE, TB_NC_WINDOW_OFF + TB_FW_LAYOUT.img[1].primary.size},
        .keys = {keys, load_keys(dir)},
        .log = tb_q_log,
        .app_flash_base = TB_Q_APP_FLASH_BASE,
    };
    return TB_OK;
}

int tb_q_app_mirror(uint32_t off, uint32_t len) { return tb_q_flash_mirror(&app_fl, off, len); }
