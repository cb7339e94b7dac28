/* The network core: the cross-core protocol, the interfaces each core's port
 * provides, and the net-core bootloader.
 *
 * The app core cannot reach the net core's flash; the net core can read the
 * app core's RAM. So the app core puts a command block (and, for COPY, the
 * whole image) in a shared RAM region, releases the net core from reset, and
 * polls; the net-core bootloader executes the command on its own flash and
 * answers in the same block. docs/net-core.md specifies it. */
#ifndef TWINBOOT_NETCORE_H
#define TWINBOOT_NETCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "twinboot/flash.h"
#include "twinboot/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- shared RAM -------------------------------------------------------- */

/* The shared region, as both cores see it: base is the same RAM (the app
 * core's) mapped in each core. Layout: the command block (request, written
 * only by the app core; response, written only by the net core), then the
 * data window. */
struct tb_shmem {
    volatile uint8_t *base;
    uint32_t size;
};

#define TB_NC_REQ_OFF 0U
#define TB_NC_REQ_SIZE 64U
#define TB_NC_RSP_OFF 64U
#define TB_NC_RSP_SIZE 64U
#define TB_NC_WINDOW_OFF 128U /* the data window starts here and runs to the end of the region */

#define TB_NC_REQ_MAGIC 0x5145524eU /* "NREQ" */
#define TB_NC_RSP_MAGIC 0x5053524eU /* "NRSP" */
#define TB_NC_VERSION 1U

enum tb_nc_cmd {
    TB_NC_NONE = 0,
    TB_NC_INFO = 1,   /* report the installed image: valid, size, version, hash */
    TB_NC_BACKUP = 2, /* copy [offset, offset+len) of the installed image into the window */
    TB_NC_COPY = 3,   /* verify the image in the window (len bytes, hash), install it */
};

enum tb_nc_status {
    TB_NC_ST_NONE = 0,
    TB_NC_ST_BUSY = 1,       /* working on request seq */
    TB_NC_ST_DONE = 2,       /* request seq done */
    TB_NC_ST_FAIL = 3,       /* request seq refused or failed: reason */
    TB_NC_ST_NEED_IMAGE = 4, /* no request, and the installed image is not valid: send one */
};

struct tb_nc_request {
    uint8_t cmd;       /* enum tb_nc_cmd */
    uint32_t seq;      /* new for every command; the answer names it */
    uint32_t addr;     /* COPY / BACKUP: where the data is, as an offset in the shared region (>= the window) */
    uint32_t len;      /* COPY: image bytes in the window; BACKUP: bytes wanted */
    uint32_t offset;   /* BACKUP: offset in the installed image */
    uint8_t hash[32];  /* COPY: the image's MCUboot hash (SHA-256 TLV) */
};

struct tb_nc_response {
    uint32_t seq;      /* the request answered */
    uint8_t status;    /* enum tb_nc_status */
    int32_t reason;    /* tb_err, with FAIL */
    uint8_t valid;     /* INFO: the installed image validates */
    uint32_t size;     /* INFO: its total size; BACKUP: bytes put in the window */
    struct tb_image_version ver;
    uint8_t hash[32];
};

/* Encode / decode with the check value (CRC-32). Decoding a torn, stale-magic
 * or corrupt block gives TB_E_INVAL (treated as "no block"). */
int tb_nc_write_request(const struct tb_shmem *m, const struct tb_nc_request *r);
int tb_nc_read_request(const struct tb_shmem *m, struct tb_nc_request *r);
int tb_nc_write_response(const struct tb_shmem *m, const struct tb_nc_response *r);
int tb_nc_read_response(const struct tb_shmem *m, struct tb_nc_response *r);
/* Invalidate both halves (the app core does this before each command). */
void tb_nc_clear(const struct tb_shmem *m);
uint32_t tb_nc_window_size(const struct tb_shmem *m);
void tb_shm_write(const struct tb_shmem *m, uint32_t off, const void *buf, uint32_t len);
void tb_shm_read(const struct tb_shmem *m, uint32_t off, void *buf, uint32_t len);
uint32_t tb_crc32(uint32_t crc, const void *buf, uint32_t len);

/* ---- app-core side: controlling the net core ---------------------------- */

struct tb_netctl {
    /* hold the net core in reset (RESET.NETWORK.FORCEOFF) */
    int (*hold)(void *ctx);
    /* let it run from reset: it starts its bootloader */
    int (*release)(void *ctx);
    /* let about us microseconds pass while polling (the simulator runs the
     * net core meanwhile); TB_E_POWER if the power went */
    int (*wait)(void *ctx, uint32_t us);
    void *ctx;
};

/* ---- the net-core bootloader -------------------------------------------- */

enum tb_netboot_state {
    TB_NB_START = 0, /* just out of reset */
    TB_NB_COPYING,   /* a COPY in progress */
    TB_NB_IDLE,      /* nothing to do: waiting for a command (image invalid) */
    TB_NB_JUMP,      /* its application is valid: would jump to it */
};

struct tb_netboot {
    struct tb_area app;     /* the net application slot in net flash */
    struct tb_shmem shm;
    uint8_t state;          /* enum tb_netboot_state */
    struct tb_nc_request req;
    uint32_t copy_off;      /* COPY progress (bytes) */
    bool sector_erased;     /* the sector copy_off is in has been erased */
    uint32_t last_seq;      /* the last request executed since reset */
    uint8_t buf[256];
};

void tb_netboot_init(struct tb_netboot *nb, const struct tb_area *app, const struct tb_shmem *shm);
/* Out of reset (every release by the app core). */
void tb_netboot_reset(struct tb_netboot *nb);
/* One bounded piece of work: at most one flash sector erased or a few
 * hundred bytes moved. Returns the state (>= 0), or TB_E_POWER / a flash error. */
int tb_netboot_step(struct tb_netboot *nb);

#ifdef __cplusplus
}
#endif
#endif
