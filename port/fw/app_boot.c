/* The app-core bootloader, board-independent: the boot engine on the
 * layout, then the boot log on the console. */
#include <string.h>

#include <mbedtls/memory_buffer_alloc.h>

#include "tb_fw.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

static int remote_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    (void)f, (void)off, (void)buf, (void)len;
    return TB_E_UNSUPPORTED;
}

static int remote_program(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    (void)f, (void)off, (void)buf, (void)len;
    return TB_E_UNSUPPORTED;
}

static int remote_erase(const struct tb_flash *f, uint32_t off)
{
    (void)f, (void)off;
    return TB_E_UNSUPPORTED;
}

void tb_fw_remote_net_flash(struct tb_flash *f)
{
    /* nRF5340 net core: 256 KiB, 2 KiB pages, 4-byte words */
    *f = (struct tb_flash){.name = "net", .size = 0x40000, .sector_size = 0x800, .write_size = 4,
                           .erased_val = 0xff, .read = remote_read, .program = remote_program,
                           .erase = remote_erase, .ctx = NULL};
}

static unsigned char crypto_heap[TB_FW_CRYPTO_HEAP] __attribute__((aligned(8)));

void tb_fw_app_device(const struct tb_fw_app *p, struct tb_device *dev)
{
    static struct tb_flash net;
    tb_fw_remote_net_flash(&net);
    *dev = (struct tb_device){.nflash = 3};
    dev->flashes[0] = p->app;
    dev->flashes[1] = &net;
    dev->flashes[2] = p->qspi;
}

int tb_fw_app_boot(const struct tb_fw_app *p, struct tb_boot_record *rec, uint32_t *vtor)
{
    struct tb_device dev;
    struct tb_layout_issue issue;
    tb_fw_app_device(p, &dev);
    memset(rec, 0, sizeof(*rec));
    mbedtls_memory_buffer_alloc_init(crypto_heap, sizeof(crypto_heap));

    int rc = tb_layout_check(&TB_FW_LAYOUT, &dev, &issue);
    if (rc != TB_OK) {
        tb_log_str(&p->log, "twinboot: layout refused: ");
        tb_log_str(&p->log, issue.region);
        tb_log_str(&p->log, " ");
        tb_log_str(&p->log, issue.what);
        tb_log_str(&p->log, "\n");
        return TB_E_BOOT_LAYOUT;
    }
    const struct tb_boot_config cfg = {
        .layout = &TB_FW_LAYOUT,
        .dev = &dev,
        .keys = p->keys,
        .downgrade_prevention = false,
        .max_test_boots = 1,
        .net = p->net,
        .shm = p->shm,
    };
    rc = tb_boot_go(&cfg, rec);
    if (rc != TB_OK && rc != TB_E_BOOT_NO_IMAGE) {
        tb_log_str(&p->log, "twinboot: ");
        tb_log_str(&p->log, tb_strerror(rc));
        tb_log_str(&p->log, "\n");
        return rc;
    }
    tb_bootlog_record(&p->log, rec, &TB_FW_LAYOUT);
    if (rc == TB_E_BOOT_NO_IMAGE) {
        tb_log_str(&p->log, "no bootable image: the bootloader waits for a recovery upload; it does not reset-loop\n");
        return rc;
    }
    tb_bootlog_boots(&p->log, rec);
    struct tb_area primary;
    struct tb_image_header h;
    rc = tb_region_area(&dev, &TB_FW_LAYOUT.img[0].primary, &primary);
    if (rc == TB_OK) {
        rc = tb_image_read_header(&primary, &h);
    }
    if (rc == TB_OK) {
        *vtor = p->app_flash_base + primary.off + h.hdr_size;
    }
    return rc;
}
