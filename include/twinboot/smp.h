/* The SMP (MCUmgr) server: what Zephyr's mcumgr does inside an application,
 * so that mcumgr, smpmgr/smpclient and nRF Connect Device Manager manage a
 * twinboot device unchanged. Portable C: fixed buffers, no heap; CBOR with
 * libcbor's allocation-free encoder and streaming decoder. It works on the
 * boot engine's public state (boot.h) and the flash interface. */
#ifndef TWINBOOT_SMP_H
#define TWINBOOT_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twinboot/boot.h"
#include "twinboot/crypto.h"
#include "twinboot/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TB_SMP_HDR_SIZE 8U
#define TB_SMP_UDP_PORT 1337U

enum tb_smp_op { TB_SMP_OP_READ = 0, TB_SMP_OP_READ_RSP = 1, TB_SMP_OP_WRITE = 2, TB_SMP_OP_WRITE_RSP = 3 };
enum tb_smp_group { TB_SMP_GROUP_OS = 0, TB_SMP_GROUP_IMAGE = 1 };

/* MCUmgr's general error codes (the "rc" of SMP v1 and of SMP-layer errors). */
enum tb_mgmt_err {
    TB_MGMT_EOK = 0,
    TB_MGMT_EUNKNOWN = 1,
    TB_MGMT_ENOMEM = 2,
    TB_MGMT_EINVAL = 3,
    TB_MGMT_ETIMEOUT = 4,
    TB_MGMT_ENOENT = 5,
    TB_MGMT_EBADSTATE = 6,
    TB_MGMT_EMSGSIZE = 7,
    TB_MGMT_ENOTSUP = 8,
    TB_MGMT_ECORRUPT = 9,
    TB_MGMT_EBUSY = 10,
};

/* Image group errors of SMP v2 ("err": {"group": 1, "rc": ...}). */
enum tb_img_err {
    TB_IMG_ERR_UNKNOWN = 1,
    TB_IMG_ERR_NO_IMAGE = 3,
    TB_IMG_ERR_HASH_NOT_FOUND = 8,
    TB_IMG_ERR_FLASH_READ_FAILED = 11,
    TB_IMG_ERR_FLASH_WRITE_FAILED = 12,
    TB_IMG_ERR_FLASH_ERASE_FAILED = 13,
    TB_IMG_ERR_INVALID_SLOT = 14,
    TB_IMG_ERR_INVALID_OFFSET = 20,
    TB_IMG_ERR_INVALID_LENGTH = 21,
    TB_IMG_ERR_INVALID_IMAGE_HEADER = 22,
    TB_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC = 23,
    TB_IMG_ERR_INVALID_HASH = 24,
    TB_IMG_ERR_CURRENT_VERSION_IS_NEWER = 27,
    TB_IMG_ERR_IMAGE_ALREADY_PENDING = 28,
    TB_IMG_ERR_INVALID_IMAGE_TOO_LARGE = 30,
    TB_IMG_ERR_INVALID_IMAGE_DATA_OVERRUN = 31,
    TB_IMG_ERR_IMAGE_CONFIRMATION_DENIED = 32,
    TB_IMG_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED = 33,
};

struct tb_smp_hdr {
    uint8_t op;      /* enum tb_smp_op */
    uint8_t version; /* 0: SMP v1, 1: SMP v2 */
    uint8_t flags;
    uint16_t len;    /* CBOR payload bytes */
    uint16_t group;
    uint8_t seq;
    uint8_t id;
};

void tb_smp_hdr_decode(const uint8_t p[TB_SMP_HDR_SIZE], struct tb_smp_hdr *h);
void tb_smp_hdr_encode(const struct tb_smp_hdr *h, uint8_t p[TB_SMP_HDR_SIZE]);

/* What the server needs from the device it runs on. */
struct tb_smp_env {
    const struct tb_boot_config *cfg;   /* layout, flashes, trusted keys */
    const struct tb_boot_record *rec;   /* what the bootloader did at the last reset */
    uint32_t buf_size, buf_count;       /* announced by "mcumgr params" */
    const char *app_info;               /* "os info" output */
};

/* The durable part of an upload, kept in flash at the start of the
 * secondary's trailer sector (lib/smp_session.c): which file, and the offset
 * up to which the slot holds its bytes. After a reset the same file's first
 * request resumes there; nothing beyond it is trusted. */
struct tb_smp_session {
    uint8_t image;
    uint32_t len;
    uint8_t sha[32];
    uint32_t off;          /* last durable offset */
    uint32_t next, limit;  /* where the next entry goes; end of the record area */
};

/* sec: the whole secondary slot. start: erase its trailer sector and write
 * the header (image, len, sha from s). load: 1 and *s when a valid header
 * is there, 0 when not, <0 on a flash error. mark: append a durable offset
 * (TB_E_NOSPACE when the area is full). step: bytes between two marks, so
 * that a whole upload of s->len fits. */
int tb_smp_session_start(const struct tb_area *sec, uint32_t max_align, struct tb_smp_session *s);
int tb_smp_session_load(const struct tb_area *sec, uint32_t max_align, struct tb_smp_session *s);
int tb_smp_session_mark(const struct tb_area *sec, struct tb_smp_session *s, uint32_t off);
uint32_t tb_smp_session_step(const struct tb_area *sec, const struct tb_smp_session *s);

/* An upload in progress (also what makes a reconnecting client resume). */
struct tb_smp_upload {
    bool active;
    uint8_t image;
    uint32_t len, off;     /* total length, next offset expected */
    bool has_sha;
    uint8_t sha[32];       /* SHA-256 of the whole file, from the client */
    uint32_t erased;       /* bytes of the slot erased so far */
    uint8_t tail[8];       /* bytes waiting for a whole flash write block */
    uint32_t tail_len;
    struct tb_hash_ctx hash;
    struct tb_smp_session ses; /* its durable record */
};

struct tb_smp_server {
    struct tb_smp_env env;
    struct tb_smp_upload up;
    bool reset_requested; /* set by "os reset": reset once the response is sent */
};

void tb_smp_init(struct tb_smp_server *s, const struct tb_smp_env *env);

/* Handle one SMP message (header + CBOR). Writes the response (header +
 * CBOR) to rsp and its length to *rsp_len and returns TB_OK; every bad
 * request gets an error response (a truncated header too: its missing bytes
 * read as 0). TB_E_INVAL only for what must not be answered: a response
 * frame, or an empty message. */
int tb_smp_handle(struct tb_smp_server *s, const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
                  size_t *rsp_len);

#ifdef __cplusplus
}
#endif
#endif
