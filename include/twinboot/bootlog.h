/* The boot log: the lines that tell what a reset did, from its boot record.
 * One formatter for every place that prints them: the firmware bootloaders
 * (over their console) and `twinboot sim boot` (on stdout) print the same
 * text. Device-side: no stdio, no heap; text goes out through a callback. */
#ifndef TWINBOOT_BOOTLOG_H
#define TWINBOOT_BOOTLOG_H

#include <stdint.h>

#include "twinboot/boot.h"
#include "twinboot/image.h"
#include "twinboot/layout.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tb_log {
    void (*write)(void *ctx, const char *s, uint32_t len);
    void *ctx;
};

void tb_log_str(const struct tb_log *l, const char *s);
void tb_log_u32(const struct tb_log *l, uint32_t v);
void tb_log_hex32(const struct tb_log *l, uint32_t v); /* "0x0001a2b0" */
/* "1.2.3+4", as `twinboot image` prints versions. out: TB_VERSION_STR_MAX bytes. */
#define TB_VERSION_STR_MAX 48
void tb_version_str(const struct tb_image_version *v, char *out);
const char *tb_strategy_name(int strategy);

/* One line per image ("image 0 (app core, swap): upgrade-test 1.0.0+0 -> 2.0.0+0")
 * and its indented details (resumed, set, resent, reason). */
void tb_bootlog_record(const struct tb_log *l, const struct tb_boot_record *rec, const struct tb_layout *lay);
/* "boots: image 0 version 2.0.0+0, confirmed" (or the test warning). */
void tb_bootlog_boots(const struct tb_log *l, const struct tb_boot_record *rec);

/* What the net core did after the app core let it go: "net core: boots
 * image 1 version ..." when it runs its application (running), otherwise
 * that its bootloader waits for an image. */
void tb_bootlog_net(const struct tb_log *l, const struct tb_boot_record *rec, int running);

#ifdef __cplusplus
}
#endif
#endif
