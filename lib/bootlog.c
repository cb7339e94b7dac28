/* The boot log (bootlog.h): the same lines on the chip's console and from
 * the simulator's CLI, so a log from a board reads like a simulator run. */
#include "twinboot/bootlog.h"

#include <stddef.h>

#include "twinboot/error.h"

void tb_log_str(const struct tb_log *l, const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    l->write(l->ctx, s, n);
}

static uint32_t put_dec(char *out, uint32_t v)
{
    char d[10];
    uint32_t k = 0, n = 0;
    do {
        d[k++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    while (k > 0) {
        out[n++] = d[--k];
    }
    return n;
}

void tb_log_u32(const struct tb_log *l, uint32_t v)
{
    char b[12];
    b[put_dec(b, v)] = '\0';
    tb_log_str(l, b);
}

void tb_log_hex32(const struct tb_log *l, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char b[11] = "0x";
    for (int i = 0; i < 8; i++) {
        b[2 + i] = digits[(v >> (28 - 4 * i)) & 15u];
    }
    b[10] = '\0';
    tb_log_str(l, b);
}

void tb_version_str(const struct tb_image_version *v, char *out)
{
    uint32_t n = put_dec(out, v->major);
    out[n++] = '.';
    n += put_dec(out + n, v->minor);
    out[n++] = '.';
    n += put_dec(out + n, v->revision);
    out[n++] = '+';
    n += put_dec(out + n, v->build);
    out[n] = '\0';
}

const char *tb_strategy_name(int strategy)
{
    switch (strategy) {
    case TB_STRATEGY_SWAP: return "swap";
    case TB_STRATEGY_OVERWRITE: return "overwrite";
    case TB_STRATEGY_HANDOVER: return "handover";
    default: return "none";
    }
}

void tb_bootlog_record(const struct tb_log *l, const struct tb_boot_record *rec, const struct tb_layout *lay)
{
    for (int i = 0; i < rec->image_count && i < TB_MAX_IMAGES; i++) {
        const struct tb_boot_image_record *r = &rec->img[i];
        char from[TB_VERSION_STR_MAX], to[TB_VERSION_STR_MAX];
        tb_version_str(&r->from, from);
        tb_version_str(&r->to, to);
        tb_log_str(l, "image ");
        tb_log_u32(l, (uint32_t)i);
        tb_log_str(l, i == 0 ? " (app core, " : " (net core, ");
        tb_log_str(l, tb_strategy_name(lay->img[i].strategy));
        tb_log_str(l, "): ");
        tb_log_str(l, tb_boot_action_name(r->action));
        switch (r->action) {
        case TB_ACT_UPGRADE_TEST:
        case TB_ACT_UPGRADE_PERM:
        case TB_ACT_OVERWRITE:
        case TB_ACT_REVERT:
        case TB_ACT_RECOVERED:
            tb_log_str(l, " ");
            tb_log_str(l, from);
            tb_log_str(l, " -> ");
            tb_log_str(l, to);
            break;
        case TB_ACT_DEFERRED: tb_log_str(l, " (not managed by this bootloader)"); break;
        default: break;
        }
        tb_log_str(l, "\n");
        if (r->resumed) {
            tb_log_str(l, "  resumed an operation interrupted by the last reset, and finished it\n");
        }
        if (r->set) {
            tb_log_str(l, "  as one half of an update set with the other image\n");
        }
        if (r->resent) {
            tb_log_str(l, "  the net image was broken: sent again through shared RAM\n");
        }
        if (r->reason != TB_OK) {
            tb_log_str(l, "  reason: ");
            tb_log_str(l, tb_strerror(r->reason));
            tb_log_str(l, "\n");
        }
    }
}

/* "<what> version V, confirmed" or the test warning. */
static void running_line(const struct tb_log *l, const char *what, const struct tb_boot_image_record *r,
                         const char *unconfirmed)
{
    char v[TB_VERSION_STR_MAX];
    tb_version_str(&r->to, v);
    tb_log_str(l, what);
    tb_log_str(l, v);
    tb_log_str(l, r->confirmed ? ", confirmed\n" : unconfirmed);
}

void tb_bootlog_boots(const struct tb_log *l, const struct tb_boot_record *rec)
{
    running_line(l, "boots: image 0 version ", &rec->img[0],
                 ", a test, NOT confirmed: confirm it ('twinboot sim confirm') or the next reset reverts it\n");
}

void tb_bootlog_net(const struct tb_log *l, const struct tb_boot_record *rec, int running)
{
    if (!running || rec->image_count < 2 || !rec->img[1].valid) {
        tb_log_str(l, "net core: no valid image: its bootloader waits for one (load image 1 and reset)\n");
        return;
    }
    running_line(l, "net core: boots image 1 version ", &rec->img[1],
                 ", a test, NOT confirmed: confirm it ('twinboot sim confirm --image 1') or the next reset rolls "
                 "it back\n");
}
