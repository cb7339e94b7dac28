/* `twinboot layout show|check|c FILE`: NCS Partition Manager layouts for
 * twinboot (tools/pmlayout.c does the reading and the checks). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pmlayout.h"
#include "twinboot/error.h"

static const char layout_usage[] =
    "usage: twinboot layout <command> [options] FILE\n"
    "\n"
    "Partition Manager layouts for twinboot on the nRF5340 DK. FILE is an NCS\n"
    "build's partitions.yml or a project's pm_static.yml.\n"
    "\n"
    "commands:\n"
    "  show   each twinboot region, the partition it comes from, and the verdict\n"
    "  check  the verdict only\n"
    "  c      a C source that defines the layout for the firmware build\n"
    "\n"
    "options:\n"
    "      --net FILE   the net core's partitions (partitions_CPUNET.yml); without it\n"
    "                   the net application is taken at NCS's address, 0x01008800\n"
    "  -o, --output F   (c) write to F instead of standard output\n"
    "      --name NAME  (c) the variable's name (default tb_layout_pm)\n"
    "  -h, --help       this text\n"
    "\n"
    "When FILE lacks twinboot's partitions (twinboot_backup[_1], twinboot_status[_1])\n"
    "they are placed in free external flash and a pm_static.yml fragment that pins\n"
    "them is printed. Exit codes: 0 twinboot can use the layout, 1 refused (the\n"
    "message says why), 2 usage error.\n";

static const char *const flash_names[3] = {"app", "net", "ext"};
static const uint32_t flash_base[3] = {0, 0x01000000u, 0};

static void print_region(const char *what, const struct tb_region *r, const struct tb_pm_source *s)
{
    uint32_t base = flash_base[r->flash % 3];
    printf("  %-10s %-4s 0x%08x-0x%08x %5u KiB  %s%s\n", what, flash_names[r->flash % 3], base + r->off,
           base + r->off + r->size, (unsigned)(r->size / 1024), s->name != NULL ? s->name : "-",
           s->planned ? (strcmp(s->name, "app (net core)") == 0 ? " (NCS default)" : " (planned)") : "");
}

static void show(const struct tb_pm_layout *l, const struct tb_pm_dk *dk)
{
    static const char *const role[2] = {"app core, swap with revert", "net core, hand-over with backup"};
    static const char *const names[4] = {"primary", "secondary", "backup", "status"};
    for (int i = 0; i < l->lay.image_count; i++) {
        const struct tb_image_layout *im = &l->lay.img[i];
        const struct tb_region *r[4] = {&im->primary, &im->secondary, &im->backup, &im->status};
        printf("image %d (%s):\n", i, role[i]);
        for (int k = 0; k < 4; k++) {
            print_region(names[k], r[k], &l->src[i][k]);
        }
        /* the last sector of a slot holds the trailer: images end before it, in
         * the slot they run from and in the one uploads land in (--slot-size) */
        uint32_t in_pri = im->primary.size - dk->flash[im->primary.flash].sector_size;
        uint32_t in_sec = im->secondary.size - dk->flash[im->secondary.flash].sector_size;
        printf("  largest image: 0x%x bytes (sign with --slot-size 0x%x%s)\n", in_pri < in_sec ? in_pri : in_sec,
               im->secondary.size, i == 1 ? " --header-size 0x800 --pad-header" : "");
    }
    if (l->header_size != 0) {
        printf("image header (mcuboot_pad): 0x%x bytes\n", l->header_size);
    }
    if (l->lay.image_count == 2) {
        printf("net application: 0x%08x%s; twinboot's net bootloader ends below 0x%08x\n", l->net_app,
               l->net_app_assumed ? " (NCS's default; --net partitions_CPUNET.yml to read it)" : "",
               0x01000000u + l->lay.img[1].primary.off);
        printf("shared RAM: 0x%08x-0x%08x (pcd_sram's place: command block and a window for a whole net slot)\n",
               l->shm_base, l->shm_base + l->shm_size);
    }
}

int cmd_layout(int argc, char **argv)
{
    enum { OPT_NET = 256, OPT_NAME };
    static const struct option opts[] = {{"net", required_argument, NULL, OPT_NET},
                                         {"output", required_argument, NULL, 'o'},
                                         {"name", required_argument, NULL, OPT_NAME},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(layout_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? TB_EXIT_USAGE : TB_EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "show") != 0 && strcmp(cmd, "check") != 0 && strcmp(cmd, "c") != 0) {
        fprintf(stderr, "twinboot layout: unknown command '%s'\n\n%s", cmd, layout_usage);
        return TB_EXIT_USAGE;
    }
    const char *net = NULL, *out = NULL, *name = "tb_layout_pm";
    int c;
    optind = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_NET: net = optarg; break;
        case 'o': out = optarg; break;
        case OPT_NAME: name = optarg; break;
        case 'h': fputs(layout_usage, stdout); return TB_EXIT_OK;
        default: return cli_usage_error("layout", cmd, "unknown option");
        }
    }
    if (optind + 1 != argc - 1) {
        return cli_usage_error("layout", cmd, "needs one FILE");
    }
    if ((out != NULL || strcmp(name, "tb_layout_pm") != 0) && strcmp(cmd, "c") != 0) {
        return cli_usage_error("layout", cmd, "-o and --name belong to 'layout c'");
    }
    for (const char *p = name; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (p != name && *p >= '0' && *p <= '9'))) {
            return cli_usage_error("layout", cmd, "--name must be a C identifier");
        }
    }
    const char *file = argv[optind + 1];
    struct tb_pm_layout l;
    struct tb_pm_dk dk;
    char msg[512];
    tb_pm_dk_init(&dk);
    int rc = tb_pm_load(file, net, &l, msg, sizeof(msg));
    if (rc != TB_OK) {
        fprintf(stderr, "twinboot layout %s: %s\nverdict: refused\n", cmd, msg);
        return TB_EXIT_FAIL;
    }
    if (strcmp(cmd, "c") == 0) {
        FILE *o = out != NULL ? fopen(out, "w") : stdout;
        if (o == NULL) {
            fprintf(stderr, "twinboot layout c: cannot write %s\n", out);
            return TB_EXIT_FAIL;
        }
        tb_pm_write_c(o, &l, name, file);
        if (out != NULL && fclose(o) != 0) {
            fprintf(stderr, "twinboot layout c: cannot write %s\n", out);
            return TB_EXIT_FAIL;
        }
        return TB_EXIT_OK;
    }
    if (strcmp(cmd, "show") == 0) {
        printf("%s: Partition Manager layout, %d image(s)\n", file, l.lay.image_count);
        show(&l, &dk);
    }
    printf("verdict: OK, twinboot can use this layout%s\n",
           l.planned ? " with its partitions placed in free external flash" : "");
    if (l.planned) {
        printf("\n%s lacks twinboot's partitions; pin them in pm_static.yml so that nothing\n"
               "else is placed there:\n\n",
               file);
        tb_pm_write_fragment(stdout, &l);
    }
    return TB_EXIT_OK;
}
