/* Partition Manager layouts (tools/pmlayout.c): the DK's files give exactly
 * the layout the simulator and the firmware use, variants map where they
 * should, and bad YAML or impossible layouts get a clear error. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "pmlayout.h"
#include "twinboot/error.h"
#include "twinboot/layout.h"

#ifndef TB_LAYOUTS_DIR
#define TB_LAYOUTS_DIR "tests/layouts"
#endif

/* `twinboot layout c tests/layouts/nrf5340dk-partitions.yml`, built by CMake */
extern const struct tb_layout tb_layout_gen;
extern const uint32_t tb_layout_gen_shmem_base, tb_layout_gen_shmem_size;

/* The DK's pm_static.yml (tests/layouts/nrf5340dk-pm_static.yml), one
 * partition a line, for variants made by dropping and adding lines. */
static const char *const dk_lines[] = {
    "mcuboot:             {address: 0x0,     end_address: 0x10000,  region: flash_primary,  size: 0x10000}",
    "mcuboot_pad:         {address: 0x10000, end_address: 0x10200,  region: flash_primary,  size: 0x200}",
    "app:                 {address: 0x10200, end_address: 0xe4000,  region: flash_primary,  size: 0xd3e00}",
    "mcuboot_primary:     {address: 0x10000, end_address: 0xf0000,  region: flash_primary,  size: 0xe0000, span: "
    "[mcuboot_pad, app]}",
    "mcuboot_primary_app: {address: 0x10200, end_address: 0xf0000,  region: flash_primary,  size: 0xdfe00, span: "
    "[app]}",
    "settings_storage:    {address: 0xf0000, end_address: 0x100000, region: flash_primary,  size: 0x10000}",
    "mcuboot_primary_1:   {address: 0x0,     end_address: 0x40000,  region: ram_flash, device: flash_ctrl, size: "
    "0x40000}",
    "mcuboot_secondary:   {address: 0x0,     end_address: 0xe0000,  region: external_flash, device: MX25R64, size: "
    "0xe0000}",
    "mcuboot_secondary_1: {address: 0xe0000, end_address: 0x120000, region: external_flash, device: MX25R64, size: "
    "0x40000}",
    "external_flash:      {address: 0x120000,end_address: 0x800000, region: external_flash, device: MX25R64, size: "
    "0x6e0000}",
    "pcd_sram:            {address: 0x20000000, end_address: 0x20002000, region: sram_primary, size: 0x2000}",
    "rpmsg_nrf53_sram:    {address: 0x20070000, end_address: 0x20080000, region: sram_primary, size: 0x10000}",
};

/* The DK file without the partitions named in drop (space-separated), plus add. */
static char *dk_variant(const char *drop, const char *add)
{
    static char buf[8192];
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(dk_lines) / sizeof(dk_lines[0]); i++) {
        size_t n = strcspn(dk_lines[i], ":");
        char name[64];
        snprintf(name, sizeof(name), " %.*s ", (int)n, dk_lines[i]);
        char padded[256];
        snprintf(padded, sizeof(padded), " %s ", drop != NULL ? drop : "");
        if (strstr(padded, name) == NULL) {
            strcat(buf, dk_lines[i]);
            strcat(buf, "\n");
        }
    }
    strcat(buf, add != NULL ? add : "");
    return buf;
}

static int map_str(const char *yaml, const char *net, struct tb_pm_layout *out, struct tb_pm_error *e)
{
    static struct tb_pm_file f, n;
    struct tb_pm_dk dk;
    tb_pm_dk_init(&dk);
    memset(e, 0, sizeof(*e));
    int rc = tb_pm_parse((const uint8_t *)yaml, strlen(yaml), &f, e);
    if (rc == TB_OK && net != NULL) {
        rc = tb_pm_parse((const uint8_t *)net, strlen(net), &n, e);
    }
    return rc != TB_OK ? rc : tb_pm_map(&f, net != NULL ? &n : NULL, &dk, out, e);
}

static void assert_region(const struct tb_region *r, uint8_t flash, uint32_t off, uint32_t size)
{
    assert_int_equal(r->flash, flash);
    assert_int_equal(r->off, off);
    assert_int_equal(r->size, size);
}

static void assert_same_layout(const struct tb_layout *a, const struct tb_layout *b)
{
    assert_int_equal(a->image_count, b->image_count);
    assert_int_equal(a->max_align, b->max_align);
    for (int i = 0; i < a->image_count; i++) {
        const struct tb_image_layout *x = &a->img[i], *y = &b->img[i];
        assert_int_equal(x->strategy, y->strategy);
        assert_region(&x->primary, y->primary.flash, y->primary.off, y->primary.size);
        assert_region(&x->secondary, y->secondary.flash, y->secondary.off, y->secondary.size);
        assert_region(&x->backup, y->backup.flash, y->backup.off, y->backup.size);
        assert_region(&x->status, y->status.flash, y->status.off, y->status.size);
    }
}

static void load_file(const char *name, const char *net, struct tb_pm_layout *l)
{
    char p[512], np[512], msg[512] = "";
    snprintf(p, sizeof(p), "%s/%s", TB_LAYOUTS_DIR, name);
    snprintf(np, sizeof(np), "%s/%s", TB_LAYOUTS_DIR, net != NULL ? net : "");
    int rc = tb_pm_load(p, net != NULL ? np : NULL, l, msg, sizeof(msg));
    if (rc != TB_OK) {
        fail_msg("%s: %s", name, msg);
    }
}

/* The DK files, in both styles PM writes, are the DK layout the simulator,
 * the tests and the firmware have used all along. */
static void test_dk_files_give_the_dk_layout(void **state)
{
    (void)state;
    static const char *const files[] = {"nrf5340dk-partitions.yml", "nrf5340dk-pm_static.yml"};
    for (size_t i = 0; i < 2; i++) {
        struct tb_pm_layout l;
        load_file(files[i], NULL, &l);
        assert_same_layout(&l.lay, &tb_layout_nrf5340_dk);
        assert_true(l.planned);
        assert_true(l.net_app_assumed);
        assert_int_equal(l.net_app, 0x01008800);
        assert_int_equal(l.header_size, 0x200);
        assert_int_equal(l.shm_base, 0x20000000);
        assert_int_equal(l.shm_size, 128 + 0x38000);
        assert_int_equal(l.ext_free_off, 0x284000);
        assert_int_equal(l.ext_free_end, 0x800000);
        assert_string_equal(l.src[0][1].name, "mcuboot_secondary");
        assert_string_equal(l.src[1][2].name, "twinboot_backup_1");
    }
    /* the net core's own file says where its application is: the same */
    struct tb_pm_layout l;
    load_file("nrf5340dk-partitions.yml", "nrf5340dk-cpunet.yml", &l);
    assert_false(l.net_app_assumed);
    assert_same_layout(&l.lay, &tb_layout_nrf5340_dk);
    /* ... and so does a mcuboot_primary_1 in the net core's flash */
    struct tb_pm_error e;
    assert_int_equal(map_str(dk_variant("mcuboot_primary_1",
                                        "mcuboot_primary_1: {address: 0x1008800, size: 0x37800, region: "
                                        "flash_primary}\n"),
                             NULL, &l, &e),
                     TB_OK);
    assert_false(l.net_app_assumed);
    assert_string_equal(l.src[1][0].name, "mcuboot_primary_1");
    assert_same_layout(&l.lay, &tb_layout_nrf5340_dk);
    assert_int_equal(map_str(dk_variant("mcuboot_primary_1",
                                        "mcuboot_primary_1: {address: 0x1010000, size: 0x30000, region: "
                                        "flash_primary}\n"),
                             NULL, &l, &e),
                     TB_OK);
    assert_region(&l.lay.img[1].primary, 1, 0xf800, 0x30800);
}

/* `twinboot layout c` output, compiled in: the same table. */
static void test_generated_c_is_the_dk_layout(void **state)
{
    (void)state;
    assert_same_layout(&tb_layout_gen, &tb_layout_nrf5340_dk);
    assert_int_equal(tb_layout_gen_shmem_base, 0x20000000);
    assert_int_equal(tb_layout_gen_shmem_size, 128 + 0x38000);
    /* the built-in DK table's shared region is the same (the firmware's default) */
    assert_int_equal(tb_layout_gen_shmem_base, tb_layout_nrf5340_dk_shmem_base);
    assert_int_equal(tb_layout_gen_shmem_size, tb_layout_nrf5340_dk_shmem_size);
}

/* Variants: image 0's slots move, twinboot's partitions follow from the
 * start of the free external flash, image 1 stays. */
static void test_variants(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        struct tb_layout want;
        uint32_t free_off;
    } cases[] = {
        {"nrf5340dk-internal-secondary.yml",
         {2, 8,
          {{TB_STRATEGY_SWAP, {0, 0x10000, 0x68000}, {0, 0x78000, 0x68000}, {2, 0x40000, 0x68000}, {2, 0x128000, 0x2000}},
           {TB_STRATEGY_HANDOVER, {1, 0x8000, 0x38000}, {2, 0x0, 0x40000}, {2, 0xa8000, 0x80000}, {2, 0x12a000, 0x2000}}}},
         0x12c000},
        {"nrf5340dk-large-app.yml",
         {2, 8,
          {{TB_STRATEGY_SWAP, {0, 0x10000, 0xf0000}, {2, 0x0, 0xf0000}, {2, 0x130000, 0xf0000}, {2, 0x2a0000, 0x2000}},
           {TB_STRATEGY_HANDOVER, {1, 0x8000, 0x38000}, {2, 0xf0000, 0x40000}, {2, 0x220000, 0x80000},
            {2, 0x2a2000, 0x2000}}}},
         0x2a4000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tb_pm_layout l;
        load_file(cases[i].file, NULL, &l);
        assert_same_layout(&l.lay, &cases[i].want);
        assert_int_equal(l.ext_free_off, cases[i].free_off);
    }
}

/* A file with twinboot's partitions pinned (the fragment applied) is taken
 * as it is: nothing planned. */
static void test_pinned_partitions_are_used(void **state)
{
    (void)state;
    struct tb_pm_layout l;
    struct tb_pm_error e;
    const char *add =
        "twinboot_backup:   {address: 0x300000, size: 0xe0000, region: external_flash, device: MX25R64}\n"
        "twinboot_backup_1: {address: 0x400000, size: 0x40000, region: external_flash, device: MX25R64}\n"
        "twinboot_status:   {address: 0x120000, size: 0x2000, region: external_flash, device: MX25R64}\n"
        "twinboot_status_1: {address: 0x122000, size: 0x2000, region: external_flash, device: MX25R64}\n"
        "external_flash:    {address: 0x440000, end_address: 0x800000, region: external_flash, size: 0x3c0000}\n";
    int rc = map_str(dk_variant("external_flash", add), NULL, &l, &e);
    assert_int_equal(rc, TB_OK);
    assert_false(l.planned);
    assert_region(&l.lay.img[0].backup, 2, 0x300000, 0xe0000);
    assert_region(&l.lay.img[1].status, 2, 0x122000, 0x2000);
    /* only what is missing is planned, after what is there */
    rc = map_str(dk_variant("external_flash", "twinboot_status: {address: 0x120000, size: 0x2000, region: "
                                               "external_flash}\n"),
                 NULL, &l, &e);
    assert_int_equal(rc, TB_OK);
    assert_true(l.planned);
    assert_region(&l.lay.img[0].status, 2, 0x120000, 0x2000);
    assert_region(&l.lay.img[0].backup, 2, 0x122000, 0xe0000);
}

/* Without the net core's secondary: one image, no shared RAM needed. */
static void test_app_core_only(void **state)
{
    (void)state;
    struct tb_pm_layout l;
    struct tb_pm_error e;
    assert_int_equal(map_str(dk_variant("mcuboot_secondary_1 pcd_sram", NULL), NULL, &l, &e), TB_OK);
    assert_int_equal(l.lay.image_count, 1);
    assert_int_equal(l.shm_size, 0);
    /* the lowest free place: where the net secondary was, running on into external_flash */
    assert_region(&l.lay.img[0].backup, 2, 0xe0000, 0xe0000);
    assert_region(&l.lay.img[0].status, 2, 0x1c0000, 0x2000);
    assert_int_equal(l.ext_free_off, 0x1c2000);
    assert_int_equal(l.ext_free_end, 0x800000);
}

struct bad {
    const char *yaml;
    int rc;
    int line; /* -1: not checked */
    const char *says;
};

/* Files that are not PM layouts at all: a clear error, with the line. */
static void test_bad_yaml(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {"mcuboot: {address: 0x0, size: 0x10000\n", TB_E_INVAL, 2, "not valid YAML"},
        {"mcuboot:\n\taddress: 0x0\n", TB_E_INVAL, 2, "not valid YAML"},
        {"a: [1, 2\nb: ]]\n", TB_E_INVAL, -1, "not valid YAML"},
        {"a: {address: 0, size: 0x1000}\n  b: c\n", TB_E_INVAL, -1, "not valid YAML"},
        {"a: *nowhere\n", TB_E_INVAL, 1, "not valid YAML"},
        {"", TB_E_INVAL, 0, "empty"},
        {"# only a comment\n", TB_E_INVAL, 0, "empty"},
        {"- mcuboot\n- app\n", TB_E_INVAL, 1, "top level must map partition names"},
        {"just text\n", TB_E_INVAL, 1, "top level must map"},
        {"{}\n", TB_E_INVAL, 0, "empty"},
        {"mcuboot: 42\n", TB_E_INVAL, 1, "mcuboot: expected a mapping"},
        {"mcuboot:\n", TB_E_INVAL, 1, "mcuboot: expected a mapping"},
        {"mcuboot: {address: zero, size: 0x10}\n", TB_E_INVAL, 1, "mcuboot: address is not a number"},
        {"mcuboot: {address: -1, size: 0x10}\n", TB_E_INVAL, 1, "address is not a number"},
        {"mcuboot: {address: 0x100000000, size: 0x10}\n", TB_E_INVAL, 1, "address is not a number"},
        {"mcuboot: {address: 0x10zz, size: 0x10}\n", TB_E_INVAL, 1, "address is not a number"},
        {"mcuboot: {address: [0], size: 0x10}\n", TB_E_INVAL, 1, "address is not a number"},
        {"mcuboot: {address: 0, size: 0x10, region: [a]}\n", TB_E_INVAL, 1, "region is not"},
        {"a: {address: 0x0, end_address: 0x1000, size: 0x2000}\n", TB_E_INVAL, 1, "end_address 0x1000 is not address + size"},
        {"a: {address: 0x1000, end_address: 0x0}\n", TB_E_INVAL, 1, "lies before address"},
        {"a: {size: 0x10}\n", TB_E_INVAL, 1, "a: no address"},
        {"a: {address: 0x10}\n", TB_E_INVAL, 1, "a: no size"},
        {"a: {address: 0xffffffff, size: 2}\n", TB_E_INVAL, 1, "4 GiB"},
        {"a: {address: 0, size: 1}\nb: {address: 1, size: 1}\na: {address: 2, size: 1}\n", TB_E_INVAL, 3,
         "a: defined twice"},
        {"a_name_that_is_longer_than_forty_seven_characters_x: {address: 0, size: 1}\n", TB_E_INVAL, 1, "plain name"},
        {"? [a, b]\n: {address: 0, size: 1}\n", TB_E_INVAL, 1, "plain name"},
        {"x: {address: 0, size: 0x1000, span: {a: b}}\n", TB_E_INVAL, 1, "x: span must list"},
        {"x: {address: 0, size: 0x1000, span: [[a]]}\n", TB_E_INVAL, 1, "x: span must list"},
        {"x: {address: 0, size: 0x1000, span: [a, b, c, d, e, f, g, h, i]}\n", TB_E_NOSPACE, 1, "more than 8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tb_pm_file *f = malloc(sizeof(*f));
        struct tb_pm_error e = {0};
        assert_non_null(f);
        int rc = tb_pm_parse((const uint8_t *)cases[i].yaml, strlen(cases[i].yaml), f, &e);
        free(f);
        if (rc != cases[i].rc || strstr(e.msg, cases[i].says) == NULL || (cases[i].line >= 0 && e.line != cases[i].line)) {
            fail_msg("case %zu: rc %d line %d '%s'; want rc %d line %d '%s'", i, rc, e.line, e.msg, cases[i].rc,
                     cases[i].line, cases[i].says);
        }
    }
}

/* More partitions than the reader keeps: refused, not overrun. */
static void test_too_many_partitions(void **state)
{
    (void)state;
    static char yaml[TB_PM_MAX_PARTS * 64 + 64];
    size_t n = 0;
    for (int i = 0; i <= TB_PM_MAX_PARTS; i++) {
        n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "p%d: {address: 0x%x, size: 0x1000}\n", i, i * 0x1000);
    }
    struct tb_pm_file *f = malloc(sizeof(*f));
    struct tb_pm_error e = {0};
    assert_non_null(f);
    assert_int_equal(tb_pm_parse((const uint8_t *)yaml, n, f, &e), TB_E_NOSPACE);
    free(f);
    assert_non_null(strstr(e.msg, "more than"));
}

/* Layouts twinboot cannot use: each says why, naming the partition. */
static void test_impossible_layouts(void **state)
{
    (void)state;
    static const struct {
        const char *drop, *add, *net, *says;
    } cases[] = {
        {"mcuboot_primary mcuboot_primary_app", NULL, NULL, "no mcuboot_primary partition"},
        {"mcuboot_secondary", NULL, NULL, "no mcuboot_secondary partition"},
        {"mcuboot_primary mcuboot_primary_app external_flash",
         "mcuboot_primary: {address: 0x700000, size: 0xe0000, region: external_flash}\n", NULL,
         "mcuboot_primary must lie in the app core's flash"},
        {"mcuboot_secondary",
         "mcuboot_secondary: {address: 0x0, size: 0xe0000, region: sram_primary}\n", NULL,
         "mcuboot_secondary must lie in app-core or external flash"},
        {"settings_storage", "settings_storage: {address: 0xe8000, size: 0x18000}\n", NULL,
         "settings_storage (0xe8000-0x100000) overlaps mcuboot_primary (0x10000-0xf0000) in the app-core flash"},
        {"settings_storage", "settings_storage: {address: 0xf0000, size: 0x20000}\n", NULL,
         "lies outside the nRF5340 DK's flash"},
        {"mcuboot_secondary mcuboot_secondary_1 external_flash",
         "mcuboot_secondary: {address: 0x0, size: 0xf0000, region: external_flash}\n"
         "mcuboot_secondary_1: {address: 0xf0000, size: 0x40000, region: external_flash}\n"
         "external_flash: {address: 0x130000, size: 0x6d0000, region: external_flash}\n",
         NULL, "image 0 secondary (mcuboot_secondary) is larger than the primary slot"},
        {"mcuboot mcuboot_pad app mcuboot_primary mcuboot_primary_app",
         "mcuboot_primary: {address: 0x10800, size: 0xdf800}\n", NULL,
         "image 0 primary (mcuboot_primary) is not aligned to its flash's sectors"},
        {"mcuboot mcuboot_pad", "mcuboot_pad: {address: 0x0, size: 0x200}\n", NULL,
         "mcuboot_pad (the image header) must begin mcuboot_primary"},
        {NULL, "twinboot_backup: {address: 0xe0000, size: 0x10000, region: flash_primary}\n", NULL,
         "overlaps"},
        {"settings_storage", "twinboot_backup: {address: 0xf0000, size: 0x10000, region: flash_primary}\n", NULL,
         "twinboot_backup must lie in external flash"},
        {"external_flash",
         "twinboot_backup: {address: 0x120000, size: 0x10000, region: external_flash}\n"
         "external_flash: {address: 0x130000, size: 0x6d0000, region: external_flash}\n",
         NULL, "image 0 backup (twinboot_backup) is smaller than the primary slot"},
        {NULL, "twinboot_backup: {address: 0x200000, size: 0xe0000, region: external_flash}\n", NULL,
         "twinboot_backup (0x200000-0x2e0000) overlaps external_flash"},
        {"external_flash", "littlefs_storage: {address: 0x120000, size: 0x6e0000, region: external_flash}\n", NULL,
         "no room for twinboot's partitions: they need 0x164000 bytes of external flash"},
        {"external_flash", "littlefs_storage: {address: 0x140000, size: 0x6c0000, region: external_flash}\n", NULL,
         "the largest free range is 0x20000"},
        {"pcd_sram", NULL, NULL, "no pcd_sram partition"},
        {"pcd_sram", "pcd_sram: {address: 0x20060000, size: 0x2000, region: sram_primary}\n", NULL,
         "must lie in the app core's RAM"},
        {NULL, NULL, "app: {address: 0x1008400, size: 0x37c00}\n", "must start on a 2 KiB page"},
        {NULL, NULL, "b0n: {address: 0x1000000, size: 0x8000}\n", "no app partition in the net core's flash"},
        {NULL, NULL, "app: {address: 0x1000000, size: 0x40000}\n", "must start on a 2 KiB page after the first"},
        {NULL, NULL, "app: {address: 0x1038000, size: 0x10000}\n", "outside the nRF5340 DK's flash"},
        {"external_flash", "copy: &c {address: 0x600000, size: 0x1000, region: external_flash}\nother: *c\n", NULL,
         "other (0x600000-0x601000) overlaps copy"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tb_pm_layout l;
        struct tb_pm_error e;
        int rc = map_str(dk_variant(cases[i].drop, cases[i].add), cases[i].net, &l, &e);
        if (rc != TB_E_INVAL || strstr(e.msg, cases[i].says) == NULL) {
            fail_msg("case %zu: rc %d '%s'; want '%s'", i, rc, e.msg, cases[i].says);
        }
    }
    /* a smaller secondary is fine: a compressed image rebuilds into the primary */
    struct tb_pm_layout l;
    struct tb_pm_error e;
    int rc = map_str(dk_variant("mcuboot_secondary", "mcuboot_secondary: {address: 0x0, size: 0xd0000, region: external_flash}\n"),
                     NULL, &l, &e);
    if (rc != TB_OK) {
        fail_msg("a smaller secondary: rc %d '%s'", rc, e.msg);
    }
}

/* The simulator gets the file's bytes to keep, and the same layout back
 * from them; without one it is the DK's. */
static void test_sim_keeps_the_layout(void **state)
{
    (void)state;
    char dir[] = "/tmp/tb_layout_XXXXXX", p[600], kept[600], msg[512];
    struct tb_layout lay;
    struct tb_blob b = {0};
    assert_non_null(mkdtemp(dir));
    assert_int_equal(tb_pm_sim_layout(dir, &lay, msg, sizeof(msg)), TB_OK);
    assert_same_layout(&lay, &tb_layout_nrf5340_dk);
    snprintf(p, sizeof(p), "%s/nrf5340dk-large-app.yml", TB_LAYOUTS_DIR);
    assert_int_equal(tb_pm_sim_read(p, &b, msg, sizeof(msg)), TB_OK);
    snprintf(kept, sizeof(kept), "%s/" TB_PM_SIM_FILE, dir);
    assert_int_equal(tb_write_file(kept, b.data, b.len, msg, sizeof(msg)), 0);
    tb_blob_free(&b);
    assert_int_equal(tb_pm_sim_layout(dir, &lay, msg, sizeof(msg)), TB_OK);
    assert_region(&lay.img[0].primary, 0, 0x10000, 0xf0000);
    /* a kept file that went bad: the device does not open, and says why */
    assert_int_equal(tb_write_file(kept, (const uint8_t *)"a: {address: 0, size: 0x1000}\n", 30, msg, sizeof(msg)), 0);
    assert_int_equal(tb_pm_sim_layout(dir, &lay, msg, sizeof(msg)), TB_E_INVAL);
    assert_non_null(strstr(msg, "layout.yml: no mcuboot_primary"));
    /* the simulated DK runs both cores: a layout without image 1 is refused */
    const char *app_only = dk_variant("mcuboot_secondary_1 pcd_sram", NULL);
    assert_int_equal(tb_write_file(kept, (const uint8_t *)app_only, strlen(app_only), msg, sizeof(msg)), 0);
    assert_int_equal(tb_pm_sim_read(kept, &b, msg, sizeof(msg)), TB_E_INVAL);
    assert_non_null(strstr(msg, "needs mcuboot_secondary_1"));
    snprintf(p, sizeof(p), "%s/nrf5340dk-cpunet.yml", TB_LAYOUTS_DIR);
    assert_int_equal(tb_pm_sim_read(p, &b, msg, sizeof(msg)), TB_E_INVAL);
    assert_non_null(strstr(msg, "no mcuboot_primary"));
    assert_int_equal(remove(kept), 0);
    assert_int_equal(tb_pm_sim_layout(dir, &lay, msg, sizeof(msg)), TB_OK);
    assert_same_layout(&lay, &tb_layout_nrf5340_dk);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dk_files_give_the_dk_layout),
        cmocka_unit_test(test_generated_c_is_the_dk_layout),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_pinned_partitions_are_used),
        cmocka_unit_test(test_app_core_only),
        cmocka_unit_test(test_bad_yaml),
        cmocka_unit_test(test_too_many_partitions),
        cmocka_unit_test(test_impossible_layouts),
        cmocka_unit_test(test_sim_keeps_the_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
