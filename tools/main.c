/* twinboot: one command-line tool for images, the simulated device and (later) SMP. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "twinboot/image.h"

#ifndef TB_VERSION
#define TB_VERSION "0.0.0"
#endif

static const char usage[] =
    "usage: twinboot [--conn udp:HOST:PORT] [--json] <group> <command> [options]\n"
    "\n"
    "Power-fail-safe dual-core bootloader and DFU tools for the nRF5340.\n"
    "\n"
    "groups:\n"
    "  image   keygen, getpub, getpubhash, sign, verify, dumpinfo (imgtool's names);\n"
    "          list, upload, test, confirm, erase over SMP (mcumgr's names)\n"
    "  reset   reset the device over SMP\n"
    "  echo    echo a text over SMP\n"
    "  sim     the simulated nRF5340 DK: new, load, boot, confirm, status, run\n"
    "  layout  NCS Partition Manager layouts: show, check, c (C source for the firmware)\n"
    "\n"
    "options:\n"
    "  -h, --help      this text; 'twinboot <group> --help' for a group\n"
    "      --version   print the version\n"
    "      --conn C    the device for SMP commands (default udp:127.0.0.1:1337)\n"
    "      --json      machine-readable output of SMP commands\n"
    "\n"
    "Exit codes: 0 success, 1 failure, 2 usage error, 3 no bootable image,\n"
    "4 power cut (sim boot --cut-after), 5 no answer from the device.\n";

const char *cli_conn = "udp:127.0.0.1:1337";
bool cli_json = false;

int cli_parse_u32(const char *s, uint32_t *out)
{
    char *end;
    if (s == NULL || *s == '\0' || *s == '-') {
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 0);
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k') {
        mul = 1024;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        mul = 1024 * 1024;
        end++;
    }
    if (*end != '\0' || v > 0xffffffffULL / mul) {
        return -1;
    }
    *out = (uint32_t)(v * mul);
    return 0;
}

int cli_usage_error(const char *group, const char *cmd, const char *msg)
{
    fprintf(stderr, "twinboot %s %s: %s\nRun 'twinboot %s %s --help' for usage.\n", group, cmd, msg, group, cmd);
    return TB_EXIT_USAGE;
}

const char *cli_shq(const char *s, char *out, size_t n)
{
    bool plain = s[0] != '\0';
    for (const char *c = s; *c; c++) {
        plain = plain && (isalnum((unsigned char)*c) || strchr("_./-+:=,@%", *c) != NULL);
    }
    if (plain) {
        snprintf(out, n, "%s", s);
        return out;
    }
    /* '...' with each ' written as '\'' ; cut short (still closed) if out is too small */
    size_t o = 0;
    out[o++] = '\'';
    for (const char *c = s; *c != '\0' && o + 6 < n; c++) {
        if (*c == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *c;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

void cli_version_str(const struct tb_image_version *v, char *out, size_t n)
{
    snprintf(out, n, "%u.%u.%u+%u", v->major, v->minor, v->revision, (unsigned)v->build);
}

void cli_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int main(int argc, char **argv)
{
    /* over a file-size limit a write fails (EFBIG) and is reported, as a full disk is */
    signal(SIGXFSZ, SIG_IGN);
    /* --conn and --json may stand anywhere, as with mcumgr */
    int out = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--conn") == 0 && i + 1 < argc) {
            cli_conn = argv[++i];
        } else if (strncmp(argv[i], "--conn=", 7) == 0) {
            cli_conn = argv[i] + 7;
        } else if (strcmp(argv[i], "--json") == 0 && (i < 2 || strcmp(argv[1], "sim") != 0)) {
            cli_json = true;
        } else {
            argv[out++] = argv[i];
        }
    }
    argc = out;
    argv[argc] = NULL;
    if (argc < 2) {
        fputs(usage, stderr);
        return TB_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return TB_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("twinboot %s\n", TB_VERSION);
        return TB_EXIT_OK;
    }
    if (strcmp(argv[1], "image") == 0) {
        return cmd_image(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "sim") == 0) {
        return cmd_sim(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "layout") == 0) {
        return cmd_layout(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "reset") == 0 || strcmp(argv[1], "echo") == 0) {
        return cmd_mgmt(argc - 1, argv + 1, cli_conn, cli_json);
    }
    fprintf(stderr, "twinboot: unknown group '%s'\n\n%s", argv[1], usage);
    return TB_EXIT_USAGE;
}
