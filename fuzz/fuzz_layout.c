/* libFuzzer target: Partition Manager files (tools/pmlayout.c). Each input
 * is read as an app-core partitions.yml, and as the net core's
 * partitions_CPUNET.yml next to the DK's file. A crash, a sanitizer report,
 * an error without a message, or an accepted layout that tb_layout_check
 * refuses is what this looks for. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmlayout.h"
#include "twinboot/error.h"

static const char dk[] =
    "mcuboot_primary: {address: 0x10000, size: 0xe0000}\n"
    "mcuboot_secondary: {address: 0x0, size: 0xe0000, region: external_flash}\n"
    "mcuboot_secondary_1: {address: 0xe0000, size: 0x40000, region: external_flash}\n"
    "external_flash: {address: 0x120000, size: 0x6e0000, region: external_flash}\n"
    "pcd_sram: {address: 0x20000000, size: 0x2000, region: sram_primary}\n";

static struct tb_pm_file app, net;
static struct tb_pm_dk board;
static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    tb_pm_dk_init(&board);
    sink = fopen("/dev/null", "w");
    return 0;
}

static void check(int rc, const struct tb_pm_error *e, const struct tb_pm_layout *l)
{
    if (rc != TB_OK) {
        if (e->msg[0] == '\0') {
            abort(); /* every refusal says why */
        }
        return;
    }
    if (tb_layout_check(&l->lay, &board.dev, NULL) != TB_OK) {
        abort();
    }
    tb_pm_write_fragment(sink, l);
    tb_pm_write_c(sink, l, "fuzz", "input");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tb_pm_error e = {0};
    struct tb_pm_layout l;
    int rc = tb_pm_parse(data, size, &app, &e);
    if (rc == TB_OK) {
        memset(&e, 0, sizeof(e));
        rc = tb_pm_map(&app, NULL, &board, &l, &e);
        check(rc, &e, &l);
    } else if (e.msg[0] == '\0') {
        abort();
    }
    /* the same bytes as the net core's file */
    memset(&e, 0, sizeof(e));
    if (tb_pm_parse(data, size, &net, &e) == TB_OK &&
        tb_pm_parse((const uint8_t *)dk, sizeof(dk) - 1, &app, &e) == TB_OK) {
        rc = tb_pm_map(&app, &net, &board, &l, &e);
        check(rc, &e, &l);
    }
    return 0;
}
