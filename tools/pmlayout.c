/* Partition Manager layouts (tools/pmlayout.h). PM's files are YAML
 * mappings of partition name -> {address, end_address, size, region,
 * device, span, placement, ...}; generated files also use anchors for
 * span/orig_span, which libyaml's document loader resolves for us. */
#include "pmlayout.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "fileio.h"
#include "twinboot/error.h"
#include "twinboot/netcore.h"
#include "twinboot/sim.h"

#define NET_BASE 0x01000000u
#define RAM_BASE 0x20000000u
#define RAM_SIZE (512u * 1024u)
/* NCS puts the net application right after b0n's container (0x8800). */
#define NCS_NET_APP 0x01008800u

enum { FL_APP = 0, FL_NET = 1, FL_EXT = 2, FL_NONE = -1, FL_OUTSIDE = -2 };

static const char *const twin_names[TB_MAX_IMAGES][2] = {
    {"twinboot_backup", "twinboot_status"},
    {"twinboot_backup_1", "twinboot_status_1"},
};
static const char *const region_names[4] = {"primary", "secondary", "backup", "status"};

static int fail(struct tb_pm_error *e, int line, int rc, const char *fmt, ...)
{
    if (e != NULL) {
        va_list ap;
        va_start(ap, fmt);
        e->line = line;
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- reading ------------------------------------------------------------ */

/* A scalar as a C string; NULL if it is not a scalar, too long, or holds a NUL. */
static const char *scalar(yaml_node_t *n, char *buf, size_t cap)
{
    if (n == NULL || n->type != YAML_SCALAR_NODE || n->data.scalar.length >= cap) {
        return NULL;
    }
    memcpy(buf, n->data.scalar.value, n->data.scalar.length);
    buf[n->data.scalar.length] = '\0';
    return strlen(buf) == n->data.scalar.length ? buf : NULL;
}

/* PM writes numbers as 0x... hex; pm_static.yml files also use decimal. */
static bool number(yaml_node_t *n, uint64_t *out)
{
    char b[32], *end;
    const char *s = scalar(n, b, sizeof(b));
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0' || v > 0xffffffffULL) {
        return false;
    }
    *out = v;
    return true;
}

static int read_span(yaml_document_t *doc, yaml_node_t *v, struct tb_pm_part *p, struct tb_pm_error *e)
{
    int line = (int)v->start_mark.line + 1;
    p->nspan = 0;
    if (v->type == YAML_SCALAR_NODE) { /* span: app */
        if (scalar(v, p->span[0], sizeof(p->span[0])) == NULL) {
            return fail(e, line, TB_E_INVAL, "%s: span is not a partition name", p->name);
        }
        p->nspan = 1;
        return TB_OK;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        return fail(e, line, TB_E_INVAL, "%s: span must list partition names", p->name);
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        if (p->nspan == TB_PM_MAX_SPAN) {
            return fail(e, line, TB_E_NOSPACE, "%s: span lists more than %d partitions", p->name, TB_PM_MAX_SPAN);
        }
        if (scalar(yaml_document_get_node(doc, *it), p->span[p->nspan], sizeof(p->span[0])) == NULL) {
            return fail(e, line, TB_E_INVAL, "%s: span must list partition names", p->name);
        }
        p->nspan++;
    }
    return TB_OK;
}

static int read_part(yaml_document_t *doc, yaml_node_t *v, struct tb_pm_part *p, struct tb_pm_error *e)
{
    int line = p->line;
    uint64_t addr = 0, end = 0, size = 0;
    bool has_addr = false, has_end = false, has_size = false, has_span = false;
    if (v->type != YAML_MAPPING_NODE) {
        return fail(e, line, TB_E_INVAL, "%s: expected a mapping with address, size and region", p->name);
    }
    snprintf(p->region, sizeof(p->region), "flash_primary");
    for (yaml_node_pair_t *kv = v->data.mapping.pairs.start; kv < v->data.mapping.pairs.top; kv++) {
        char key[32];
        yaml_node_t *val = yaml_document_get_node(doc, kv->value);
        if (scalar(yaml_document_get_node(doc, kv->key), key, sizeof(key)) == NULL || val == NULL) {
            continue; /* a key PM never writes: not ours to judge */
        }
        int vline = (int)val->start_mark.line + 1;
        bool ok = true;
        if (strcmp(key, "address") == 0) {
            ok = has_addr = number(val, &addr);
        } else if (strcmp(key, "end_address") == 0) {
            ok = has_end = number(val, &end);
        } else if (strcmp(key, "size") == 0) {
            ok = has_size = number(val, &size);
        } else if (strcmp(key, "region") == 0) {
            ok = scalar(val, p->region, sizeof(p->region)) != NULL;
        } else if (strcmp(key, "device") == 0) {
            ok = scalar(val, p->device, sizeof(p->device)) != NULL;
        } else if (strcmp(key, "span") == 0 || (strcmp(key, "orig_span") == 0 && !has_span)) {
            int rc = read_span(doc, val, p, e);
            if (rc != TB_OK) {
                return rc;
            }
            has_span = strcmp(key, "span") == 0;
        }
        if (!ok) {
            return fail(e, vline, TB_E_INVAL, "%s: %s is not a number from 0 to 0xffffffff or a name", p->name, key);
        }
    }
    if (!has_addr) {
        return fail(e, line, TB_E_INVAL, "%s: no address", p->name);
    }
    if (has_end && end < addr) {
        return fail(e, line, TB_E_INVAL, "%s: end_address 0x%llx lies before address 0x%llx", p->name,
                    (unsigned long long)end, (unsigned long long)addr);
    }
    if (has_size && has_end && end - addr != size) {
        return fail(e, line, TB_E_INVAL, "%s: end_address 0x%llx is not address + size (0x%llx)", p->name,
                    (unsigned long long)end, (unsigned long long)(addr + size));
    }
    if (!has_size) {
        if (!has_end) {
            return fail(e, line, TB_E_INVAL, "%s: no size and no end_address", p->name);
        }
        size = end - addr;
    }
    if (addr + size > 0x100000000ULL) {
        return fail(e, line, TB_E_INVAL, "%s: runs past the 4 GiB address space", p->name);
    }
    p->addr = (uint32_t)addr;
    p->size = (uint32_t)size;
    return TB_OK;
}

static int parse_doc(yaml_document_t *doc, struct tb_pm_file *f, struct tb_pm_error *e)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (root == NULL) {
        return fail(e, 0, TB_E_INVAL, "empty: no partitions");
    }
    if (root->type != YAML_MAPPING_NODE) {
        return fail(e, (int)root->start_mark.line + 1, TB_E_INVAL,
                    "not a Partition Manager file: the top level must map partition names to "
                    "address, size and region");
    }
    for (yaml_node_pair_t *kv = root->data.mapping.pairs.start; kv < root->data.mapping.pairs.top; kv++) {
        yaml_node_t *k = yaml_document_get_node(doc, kv->key);
        yaml_node_t *v = yaml_document_get_node(doc, kv->value);
        int line = k != NULL ? (int)k->start_mark.line + 1 : 0;
        if (f->n == TB_PM_MAX_PARTS) {
            return fail(e, line, TB_E_NOSPACE, "more than %d partitions", TB_PM_MAX_PARTS);
        }
        struct tb_pm_part *p = &f->part[f->n];
        memset(p, 0, sizeof(*p));
        p->line = line;
        if (scalar(k, p->name, sizeof(p->name)) == NULL || p->name[0] == '\0') {
            return fail(e, line, TB_E_INVAL, "a partition name must be a plain name of at most %d characters",
                        TB_PM_NAME_MAX - 1);
        }
        if (tb_pm_find(f, p->name) != NULL) {
            return fail(e, line, TB_E_INVAL, "%s: defined twice", p->name);
        }
        if (v == NULL) {
            return fail(e, line, TB_E_INVAL, "%s: no value", p->name);
        }
        int rc = read_part(doc, v, p, e);
        if (rc != TB_OK) {
            return rc;
        }
        f->n++;
    }
    if (f->n == 0) {
        return fail(e, 0, TB_E_INVAL, "empty: no partitions");
    }
    return TB_OK;
}

int tb_pm_parse(const uint8_t *buf, size_t len, struct tb_pm_file *f, struct tb_pm_error *e)
{
    yaml_parser_t p;
    yaml_document_t doc;
    f->n = 0;
    if (!yaml_parser_initialize(&p)) {
        return fail(e, 0, TB_E_NOSPACE, "out of memory");
    }
    yaml_parser_set_input_string(&p, buf, len);
    if (!yaml_parser_load(&p, &doc)) {
        int rc = fail(e, (int)p.problem_mark.line + 1, TB_E_INVAL, "not valid YAML: %s%s%s",
                      p.problem != NULL ? p.problem : "unknown error", p.context != NULL ? " " : "",
                      p.context != NULL ? p.context : "");
        yaml_parser_delete(&p);
        return rc;
    }
    int rc = parse_doc(&doc, f, e);
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

const struct tb_pm_part *tb_pm_find(const struct tb_pm_file *f, const char *name)
{
    for (size_t i = 0; f != NULL && i < f->n; i++) {
        if (strcmp(f->part[i].name, name) == 0) {
            return &f->part[i];
        }
    }
    return NULL;
}

/* ---- the DK ------------------------------------------------------------- */

void tb_pm_dk_init(struct tb_pm_dk *dk)
{
    memset(dk, 0, sizeof(*dk));
    for (int i = 0; i < 3; i++) {
        const struct tb_sim_part *p = &tb_sim_nrf5340_parts[i];
        dk->flash[i] = (struct tb_flash){.name = p->name, .size = p->size, .sector_size = p->sector_size,
                                         .write_size = p->write_size, .erased_val = 0xff};
        dk->dev.flashes[i] = &dk->flash[i];
    }
    dk->dev.nflash = 3;
}

/* Which DK flash a partition lies in, and its offset there. */
static int flash_of(const struct tb_pm_dk *dk, const struct tb_pm_part *p, uint32_t *off)
{
    uint64_t end = (uint64_t)p->addr + p->size;
    if (strcmp(p->region, "external_flash") == 0) {
        *off = p->addr;
        return end <= dk->flash[FL_EXT].size ? FL_EXT : FL_OUTSIDE;
    }
    if (strcmp(p->region, "flash_primary") != 0) {
        return FL_NONE; /* RAM, OTP, the RAM stand-in for a slot: not flash */
    }
    if (end <= dk->flash[FL_APP].size) {
        *off = p->addr;
        return FL_APP;
    }
    if (p->addr >= NET_BASE && end <= (uint64_t)NET_BASE + dk->flash[FL_NET].size) {
        *off = p->addr - NET_BASE;
        return FL_NET;
    }
    return FL_OUTSIDE;
}

static bool spans(const struct tb_pm_file *f, const struct tb_pm_part *a, const char *b, int depth)
{
    for (int i = 0; i < a->nspan; i++) {
        if (strcmp(a->span[i], b) == 0) {
            return true;
        }
        const struct tb_pm_part *c = tb_pm_find(f, a->span[i]);
        if (depth > 0 && c != NULL && c != a && spans(f, c, b, depth - 1)) {
            return true;
        }
    }
    return false;
}

/* Partitions may overlap only as PM lays them: one spans the other, or both
 * span the same partition (mcuboot_primary and mcuboot_primary_app). */
static bool may_overlap(const struct tb_pm_file *f, const struct tb_pm_part *a, const struct tb_pm_part *b)
{
    if (spans(f, a, b->name, 3) || spans(f, b, a->name, 3)) {
        return true;
    }
    for (int i = 0; i < a->nspan; i++) {
        if (spans(f, b, a->span[i], 3)) {
            return true;
        }
    }
    return strncmp(a->name, "EMPTY_", 6) == 0 || strncmp(b->name, "EMPTY_", 6) == 0;
}

static const char *const flash_label[3] = {"app-core flash", "net-core flash", "external flash"};

static int check_overlaps(const struct tb_pm_file *f, const struct tb_pm_dk *dk, struct tb_pm_error *e)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct tb_pm_part *a = &f->part[i];
        uint32_t ao, bo;
        int fa = flash_of(dk, a, &ao);
        if (fa == FL_OUTSIDE) {
            return fail(e, a->line, TB_E_INVAL, "%s (0x%x, 0x%x bytes, %s) lies outside the nRF5340 DK's flash",
                        a->name, a->addr, a->size, a->region);
        }
        if (fa == FL_NONE || a->size == 0) {
            continue;
        }
        for (size_t j = i + 1; j < f->n; j++) {
            const struct tb_pm_part *b = &f->part[j];
            if (flash_of(dk, b, &bo) != fa || b->size == 0) {
                continue;
            }
            if ((uint64_t)ao < (uint64_t)bo + b->size && (uint64_t)bo < (uint64_t)ao + a->size &&
                !may_overlap(f, a, b)) {
                return fail(e, b->line, TB_E_INVAL, "%s (0x%x-0x%x) overlaps %s (0x%x-0x%x) in the %s", b->name,
                            b->addr, b->addr + b->size, a->name, a->addr, a->addr + a->size, flash_label[fa]);
            }
        }
    }
    return TB_OK;
}

/* ---- mapping ------------------------------------------------------------ */

static uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

/* A slot from a named partition, in one of the allowed flashes. */
static int slot(const struct tb_pm_file *f, const struct tb_pm_dk *dk, const char *name, unsigned allowed,
                const char *where, struct tb_region *r, struct tb_pm_error *e)
{
    const struct tb_pm_part *p = tb_pm_find(f, name);
    uint32_t off = 0;
    if (p == NULL) {
        return fail(e, 0, TB_E_INVAL, "no %s partition", name);
    }
    int fl = flash_of(dk, p, &off);
    if (fl < 0 || (allowed & (1u << fl)) == 0) {
        return fail(e, p->line, TB_E_INVAL, "%s must lie in %s (it is in region %s at 0x%x)", name, where, p->region,
                    p->addr);
    }
    *r = (struct tb_region){(uint8_t)fl, off, p->size};
    return TB_OK;
}

/* Image 1's slot: the net application, with the page before it for the
 * MCUboot header, so that the application's vector table stays at the
 * address NCS links it to (sign net images with --header-size 0x800). */
static int net_slot(const struct tb_pm_file *f, const struct tb_pm_file *net, const struct tb_pm_dk *dk,
                    struct tb_pm_layout *out, struct tb_pm_error *e)
{
    uint32_t page = dk->flash[FL_NET].sector_size;
    uint32_t end = NET_BASE + dk->flash[FL_NET].size;
    const struct tb_pm_part *p1 = tb_pm_find(f, "mcuboot_primary_1");
    uint32_t off;
    out->net_app = NCS_NET_APP;
    out->net_app_assumed = true;
    if (p1 != NULL && flash_of(dk, p1, &off) == FL_NET) {
        /* layouts that name the net application's flash as image 1's primary */
        out->net_app = p1->addr;
        out->net_app_assumed = false;
        end = p1->addr + p1->size;
    }
    if (net != NULL) {
        const struct tb_pm_part *app = tb_pm_find(net, "app");
        if (app == NULL || flash_of(dk, app, &off) != FL_NET) {
            return fail(e, app != NULL ? app->line : 0, TB_E_INVAL,
                        "the net-core file has no app partition in the net core's flash (0x01000000-0x01040000)");
        }
        out->net_app = app->addr;
        out->net_app_assumed = false;
        end = app->addr + app->size;
    }
    if (out->net_app % page != 0 || out->net_app - NET_BASE < page) {
        return fail(e, 0, TB_E_INVAL, "the net application at 0x%x must start on a 2 KiB page after the first one",
                    out->net_app);
    }
    uint32_t start = out->net_app - page;
    out->lay.img[1].primary = (struct tb_region){FL_NET, start - NET_BASE, end - start};
    return TB_OK;
}

/* Place what the file lacks of twinboot's partitions in one block, at the
 * lowest free place of the external flash (the external_flash partition is
 * PM's name for the free space, so it does not count as taken). */
static int plan(const struct tb_pm_file *f, const struct tb_pm_dk *dk, struct tb_pm_layout *out,
                const uint32_t need[TB_MAX_IMAGES][2], struct tb_pm_error *e)
{
    uint32_t sector = dk->flash[FL_EXT].sector_size, total = 0;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < out->lay.image_count; i++) {
            total += need[i][k];
        }
    }
    if (total == 0) {
        return TB_OK;
    }
    uint64_t best = UINT64_MAX, largest = 0;
    for (size_t c = 0; c <= f->n; c++) { /* candidates: 0 and the end of every taken range */
        uint32_t o = 0;
        uint64_t start = 0;
        if (c < f->n) {
            if (flash_of(dk, &f->part[c], &o) != FL_EXT) {
                continue;
            }
            start = align_up(o + f->part[c].size, sector);
        }
        uint64_t stop = dk->flash[FL_EXT].size; /* the next taken range after start */
        bool inside = false;
        for (size_t j = 0; j < f->n; j++) {
            const struct tb_pm_part *p = &f->part[j];
            if (flash_of(dk, p, &o) != FL_EXT || strcmp(p->name, "external_flash") == 0 ||
                strncmp(p->name, "EMPTY_", 6) == 0 || p->size == 0) {
                continue;
            }
            if (o <= start && start < (uint64_t)o + p->size) {
                inside = true;
            } else if (o > start && o < stop) {
                stop = o;
            }
        }
        if (inside || stop < start) {
            continue;
        }
        largest = stop - start > largest ? stop - start : largest;
        if (stop - start >= total && start < best) {
            best = start;
        }
    }
    if (best == UINT64_MAX) {
        return fail(e, 0, TB_E_INVAL,
                    "no room for twinboot's partitions: they need 0x%x bytes of external flash (a backup per image "
                    "and two journal sectors each); the largest free range is 0x%llx",
                    total, (unsigned long long)largest);
    }
    uint32_t at = (uint32_t)best;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < out->lay.image_count; i++) {
            if (need[i][k] == 0) {
                continue;
            }
            struct tb_region *r = k == 0 ? &out->lay.img[i].backup : &out->lay.img[i].status;
            *r = (struct tb_region){FL_EXT, at, need[i][k]};
            out->src[i][2 + k] = (struct tb_pm_source){twin_names[i][k], true};
            at += need[i][k];
        }
    }
    out->planned = true;
    const struct tb_pm_part *free_part = tb_pm_find(f, "external_flash");
    uint64_t free_end = free_part != NULL ? (uint64_t)free_part->addr + free_part->size : 0;
    if (free_part != NULL && flash_of(dk, free_part, &(uint32_t){0}) == FL_EXT && at > free_part->addr &&
        best < free_end) {
        /* the block took the free space's start (or all of it) */
        out->ext_free_end = (uint32_t)free_end;
        out->ext_free_off = at < free_end ? at : (uint32_t)free_end;
    }
    return TB_OK;
}

static int twinboot_parts(const struct tb_pm_file *f, const struct tb_pm_dk *dk, struct tb_pm_layout *out,
                          struct tb_pm_error *e)
{
    uint32_t sector = dk->flash[FL_EXT].sector_size;
    uint32_t need[TB_MAX_IMAGES][2] = {{0}};
    for (int i = 0; i < out->lay.image_count; i++) {
        struct tb_image_layout *im = &out->lay.img[i];
        for (int k = 0; k < 2; k++) {
            const char *name = twin_names[i][k];
            struct tb_region *r = k == 0 ? &im->backup : &im->status;
            out->src[i][2 + k] = (struct tb_pm_source){name, false};
            if (tb_pm_find(f, name) != NULL) {
                /* backups live off the chip: the app core's flash is too small for two copies of a slot */
                int rc = slot(f, dk, name, k == 0 ? 1u << FL_EXT : (1u << FL_EXT) | (1u << FL_APP),
                              k == 0 ? "external flash" : "external or app-core flash", r, e);
                if (rc != TB_OK) {
                    return rc;
                }
                continue;
            }
            /* a backup takes whatever either slot can hold, twice for a hand-over
             * (the backup and the copy made while the net core installs, which is
             * the next update's backup: docs/net-core.md); a journal two sectors */
            uint32_t big = im->primary.size > im->secondary.size ? im->primary.size : im->secondary.size;
            uint32_t copies = im->strategy == TB_STRATEGY_HANDOVER ? 2 : 1;
            need[i][k] = k == 0 ? copies * align_up(big, sector) : 2 * sector;
        }
    }
    return plan(f, dk, out, need, e);
}

int tb_pm_map(const struct tb_pm_file *f, const struct tb_pm_file *net, const struct tb_pm_dk *dk,
              struct tb_pm_layout *out, struct tb_pm_error *e)
{
    const unsigned app_or_ext = (1u << FL_APP) | (1u << FL_EXT);
    memset(out, 0, sizeof(*out));
    int rc = check_overlaps(f, dk, e);
    if (rc == TB_OK && net != NULL) {
        rc = check_overlaps(net, dk, e);
    }
    if (rc != TB_OK) {
        return rc;
    }
    out->lay.max_align = 8;
    out->lay.image_count = tb_pm_find(f, "mcuboot_secondary_1") != NULL ? 2 : 1;
    struct tb_image_layout *im0 = &out->lay.img[0];
    im0->strategy = TB_STRATEGY_SWAP;
    rc = slot(f, dk, "mcuboot_primary", 1u << FL_APP, "the app core's flash", &im0->primary, e);
    if (rc == TB_OK) {
        rc = slot(f, dk, "mcuboot_secondary", app_or_ext, "app-core or external flash", &im0->secondary, e);
    }
    if (rc != TB_OK) {
        return rc;
    }
    out->src[0][0] = (struct tb_pm_source){"mcuboot_primary", false};
    out->src[0][1] = (struct tb_pm_source){"mcuboot_secondary", false};
    const struct tb_pm_part *pad = tb_pm_find(f, "mcuboot_pad");
    if (pad != NULL) {
        if (pad->addr != tb_pm_find(f, "mcuboot_primary")->addr) {
            return fail(e, pad->line, TB_E_INVAL, "mcuboot_pad (the image header) must begin mcuboot_primary");
        }
        out->header_size = pad->size;
    }
    if (out->lay.image_count == 2) {
        struct tb_image_layout *im1 = &out->lay.img[1];
        im1->strategy = TB_STRATEGY_HANDOVER;
        rc = slot(f, dk, "mcuboot_secondary_1", app_or_ext, "app-core or external flash", &im1->secondary, e);
        if (rc == TB_OK) {
            rc = net_slot(f, net, dk, out, e);
        }
        if (rc != TB_OK) {
            return rc;
        }
        out->src[1][0] = (struct tb_pm_source){net != NULL || out->net_app_assumed ? "app (net core)" : "mcuboot_primary_1",
                                               out->net_app_assumed};
        out->src[1][1] = (struct tb_pm_source){"mcuboot_secondary_1", false};
        const struct tb_pm_part *pcd = tb_pm_find(f, "pcd_sram");
        if (pcd == NULL) {
            return fail(e, 0, TB_E_INVAL,
                        "no pcd_sram partition: twinboot hands net images over in its place (enable the net-core "
                        "update, CONFIG_PCD_APP)");
        }
        out->shm_base = pcd->addr;
        out->shm_size = TB_NC_WINDOW_OFF + im1->primary.size;
        if (pcd->addr < RAM_BASE || (uint64_t)pcd->addr + out->shm_size > (uint64_t)RAM_BASE + RAM_SIZE) {
            return fail(e, pcd->line, TB_E_INVAL,
                        "pcd_sram at 0x%x: the shared region twinboot puts there (0x%x bytes: the command block "
                        "and a whole net slot) must lie in the app core's RAM 0x20000000-0x20080000",
                        pcd->addr, out->shm_size);
        }
    }
    rc = twinboot_parts(f, dk, out, e);
    if (rc != TB_OK) {
        return rc;
    }
    struct tb_layout_issue issue;
    if (tb_layout_check(&out->lay, &dk->dev, &issue) != TB_OK) {
        if (issue.image < 0) {
            return fail(e, 0, TB_E_INVAL, "%s %s", issue.region, issue.what);
        }
        const char *pm = issue.region;
        for (int k = 0; k < 4; k++) {
            if (strcmp(issue.region, region_names[k]) == 0 && out->src[issue.image][k].name != NULL) {
                pm = out->src[issue.image][k].name;
            }
        }
        return fail(e, 0, TB_E_INVAL, "image %d %s (%s) %s", issue.image, issue.region, pm, issue.what);
    }
    return TB_OK;
}

/* ---- files and output --------------------------------------------------- */

static int load_one(const char *path, struct tb_pm_file *f, char *msg, size_t msglen)
{
    struct tb_blob b = {0};
    char err[256];
    struct tb_pm_error e = {0};
    if (tb_read_file(path, &b, err, sizeof(err)) != 0) {
        snprintf(msg, msglen, "%s", err);
        return TB_E_IO;
    }
    int rc = tb_pm_parse(b.data, b.len, f, &e);
    tb_blob_free(&b);
    if (rc != TB_OK) {
        if (e.line > 0) {
            snprintf(msg, msglen, "%s:%d: %s", path, e.line, e.msg);
        } else {
            snprintf(msg, msglen, "%s: %s", path, e.msg);
        }
    }
    return rc;
}

int tb_pm_load(const char *path, const char *netpath, struct tb_pm_layout *out, char *msg, size_t msglen)
{
    struct tb_pm_file *f = calloc(2, sizeof(*f));
    struct tb_pm_dk dk;
    struct tb_pm_error e = {0};
    if (f == NULL) {
        snprintf(msg, msglen, "out of memory");
        return TB_E_NOSPACE;
    }
    int rc = load_one(path, &f[0], msg, msglen);
    if (rc == TB_OK && netpath != NULL) {
        rc = load_one(netpath, &f[1], msg, msglen);
    }
    if (rc == TB_OK) {
        tb_pm_dk_init(&dk);
        rc = tb_pm_map(&f[0], netpath != NULL ? &f[1] : NULL, &dk, out, &e);
        if (rc != TB_OK) {
            if (e.line > 0) {
                snprintf(msg, msglen, "%s:%d: %s", path, e.line, e.msg);
            } else {
                snprintf(msg, msglen, "%s: %s", path, e.msg);
            }
        }
    }
    free(f);
    return rc;
}

static void fragment_part(FILE *o, const char *name, uint32_t off, uint32_t size)
{
    fprintf(o, "%s:\n  address: 0x%x\n  end_address: 0x%x\n  region: external_flash\n  device: MX25R64\n"
               "  size: 0x%x\n",
            name, off, off + size, size);
}

void tb_pm_write_fragment(FILE *o, const struct tb_pm_layout *l)
{
    fprintf(o, "# twinboot: a backup of each image (for revert) and two sectors of progress\n"
               "# journal per image, in the DK's external flash (MX25R64).\n");
    for (int k = 2; k < 4; k++) {
        for (int i = 0; i < l->lay.image_count; i++) {
            const struct tb_region *r = k == 2 ? &l->lay.img[i].backup : &l->lay.img[i].status;
            if (l->src[i][k].planned) {
                fragment_part(o, l->src[i][k].name, r->off, r->size);
            }
        }
    }
    if (l->ext_free_end > l->ext_free_off) {
        fprintf(o, "# what is left of the free space\n");
        fragment_part(o, "external_flash", l->ext_free_off, l->ext_free_end - l->ext_free_off);
    } else if (l->ext_free_end != 0) {
        fprintf(o, "# and remove external_flash: no free space is left\n");
    }
}

static const char *strategy_c(uint8_t s)
{
    switch (s) {
    case TB_STRATEGY_SWAP: return "TB_STRATEGY_SWAP";
    case TB_STRATEGY_OVERWRITE: return "TB_STRATEGY_OVERWRITE";
    case TB_STRATEGY_HANDOVER: return "TB_STRATEGY_HANDOVER";
    default: return "TB_STRATEGY_NONE";
    }
}

void tb_pm_write_c(FILE *o, const struct tb_pm_layout *l, const char *name, const char *from)
{
    fprintf(o,
            "/* Generated by 'twinboot layout c' from %s: twinboot's partition layout\n"
            " * for this Partition Manager file. Do not edit: regenerate it when the\n"
            " * layout changes. Flashes: 0 app-core NVMC, 1 net-core NVMC, 2 external. */\n"
            "#include <stdint.h>\n\n#include \"twinboot/layout.h\"\n\n"
            "const struct tb_layout %s = {\n    .image_count = %u,\n    .max_align = %u,\n    .img = {\n",
            from, name, l->lay.image_count, (unsigned)l->lay.max_align);
    for (int i = 0; i < l->lay.image_count; i++) {
        const struct tb_image_layout *im = &l->lay.img[i];
        const struct tb_region *r[4] = {&im->primary, &im->secondary, &im->backup, &im->status};
        fprintf(o, "        {\n            .strategy = %s,\n", strategy_c(im->strategy));
        for (int k = 0; k < 4; k++) {
            fprintf(o, "            .%s = {%u, 0x%x, 0x%x}, /* %s */\n", region_names[k], r[k]->flash, r[k]->off,
                    r[k]->size, l->src[i][k].name != NULL ? l->src[i][k].name : "-");
        }
        fprintf(o, "        },\n");
    }
    fprintf(o, "    },\n};\n\n/* the shared RAM region for net-core hand-overs: pcd_sram's place, grown to\n"
               " * the command block plus a whole net slot (0 when there is no image 1) */\n"
               "const uint32_t %s_shmem_base = 0x%xu;\nconst uint32_t %s_shmem_size = 0x%xu;\n",
            name, l->shm_base, name, l->shm_size);
}

/* ---- the simulator's copy ----------------------------------------------- */

static void sim_path(char *out, size_t n, const char *dir) { snprintf(out, n, "%s/" TB_PM_SIM_FILE, dir); }

int tb_pm_sim_read(const char *path, struct tb_blob *out, char *msg, size_t msglen)
{
    struct tb_pm_layout l;
    int rc = tb_pm_load(path, NULL, &l, msg, msglen);
    if (rc != TB_OK) {
        return rc;
    }
    if (l.lay.image_count != 2) {
        snprintf(msg, msglen, "%s: the simulated DK runs both cores: the layout needs mcuboot_secondary_1", path);
        return TB_E_INVAL;
    }
    return tb_read_file(path, out, msg, msglen) == 0 ? TB_OK : TB_E_IO;
}

int tb_pm_sim_layout(const char *dir, struct tb_layout *lay, char *msg, size_t msglen)
{
    char p[4096];
    struct tb_pm_layout l;
    sim_path(p, sizeof(p), dir);
    FILE *f = fopen(p, "rb");
    if (f == NULL) {
        *lay = tb_layout_nrf5340_dk;
        return TB_OK;
    }
    fclose(f);
    int rc = tb_pm_load(p, NULL, &l, msg, msglen);
    if (rc == TB_OK) {
        *lay = l.lay;
    }
    return rc;
}
