/* A bench image (build/fw/qemu/bench-validate.elf, not a test): on CPU0,
 * counts the instructions of image validation the way the bootloader does it
 * (image 0's primary in DIR's app flash, with and without the signature
 * check) and of bare SHA-256 over the same bytes in RAM, and prints them. */
#include <mbedtls/memory_buffer_alloc.h>
#include <mbedtls/sha256.h>

#include "an521.h"
#include "semihost.h"
#include "tb_m33.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

static unsigned char heap[TB_FW_CRYPTO_HEAP] __attribute__((aligned(8)));

static void line(const char *what, uint32_t v)
{
    tb_log_str(&tb_q_log, what);
    tb_log_str(&tb_q_log, " ");
    tb_log_u32(&tb_q_log, v);
    tb_log_str(&tb_q_log, "\n");
}

void tb_fw_main(void)
{
    static struct tb_q_args a;
    static struct tb_fw_app p;
    struct tb_image_info info;
    uint8_t digest[32];
    if (tb_q_args(&a) != TB_OK || tb_q_app_port(a.dir, &p) != TB_OK) {
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
    mbedtls_memory_buffer_alloc_init(heap, sizeof(heap));
    tb_q_clock_start(0, 0);
    const struct tb_area slot = {p.app, TB_FW_LAYOUT.img[0].primary.off, TB_FW_LAYOUT.img[0].primary.size};
    const struct tb_keyring none = {NULL, 0};

    uint32_t t0 = tb_q_ticks();
    int rc = tb_image_validate(&slot, &p.keys, &info);
    uint32_t t1 = tb_q_ticks();
    int rc2 = tb_image_validate(&slot, &none, &info);
    uint32_t t2 = tb_q_ticks();
    /* the bytes the hash covers (header + payload + protected TLVs), in RAM */
    uint32_t len = info.hdr.hdr_size + info.hdr.img_size + info.hdr.protect_tlv_size;
    if (rc != TB_OK || rc2 != TB_OK || tb_q_app_mirror(slot.off, len) != TB_OK) {
        line("bench-validate: cannot validate image 0, error", (uint32_t)-rc);
        tb_sh_exit(TB_Q_EXIT_FAIL);
    }
    uint32_t t3 = tb_q_ticks();
    (void)mbedtls_sha256_ret((const unsigned char *)(uintptr_t)(TB_Q_APP_FLASH_BASE + slot.off), len, digest, 0);
    uint32_t t4 = tb_q_ticks();
    line("image-bytes", len);
    line("validate-signed-instructions", (t1 - t0) * TB_Q_INSNS_PER_TICK);
    line("validate-hash-only-instructions", (t2 - t1) * TB_Q_INSNS_PER_TICK);
    line("sha256-instructions", (t4 - t3) * TB_Q_INSNS_PER_TICK);
    line("stack-high-water", tb_m33_stack_size() - tb_m33_stack_unused());
    tb_sh_exit(TB_Q_EXIT_OK);
}
