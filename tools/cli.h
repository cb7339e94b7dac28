/* Shared pieces of the twinboot command-line tool. */
#ifndef TB_TOOLS_CLI_H
#define TB_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes scripts can rely on (documented in docs/user-guide.md). */
enum {
    TB_EXIT_OK = 0,
    TB_EXIT_FAIL = 1,       /* the operation ran and failed (invalid image, I/O error...) */
    TB_EXIT_USAGE = 2,      /* bad command line */
    TB_EXIT_NO_BOOTABLE = 3, /* the simulated device has no bootable image */
    TB_EXIT_POWER_CUT = 4,   /* sim boot --cut-after: the power was cut, as asked */
    TB_EXIT_NO_RESPONSE = 5  /* the device did not answer over SMP */
};

int cmd_image(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_layout(int argc, char **argv);
/* SMP verbs; argv[0] is the verb. */
int cmd_mgmt(int argc, char **argv, const char *conn_spec, bool json);
/* Set by main from --conn / --json anywhere on the command line. */
extern const char *cli_conn;
extern bool cli_json;

/* "twinboot GROUP CMD: MSG" and where to look; returns TB_EXIT_USAGE. */
int cli_usage_error(const char *group, const char *cmd, const char *msg);

/* "0x200", "512", "1M"/"64K": 0 or -1. */
int cli_parse_u32(const char *s, uint32_t *out);
void cli_hex(const uint8_t *p, size_t n, char *out);
/* s as one shell word, quoted only when it needs to be (for hints a user
 * pastes back); out holds n bytes. Returns out. */
const char *cli_shq(const char *s, char *out, size_t n);
/* "1.2.3+4" */
struct tb_image_version;
void cli_version_str(const struct tb_image_version *v, char *out, size_t n);

#endif
