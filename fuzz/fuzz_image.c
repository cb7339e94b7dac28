/* libFuzzer target: the MCUboot image parser and validator on arbitrary slot
 * contents. The first byte picks the policy (hash only, or signatures by the
 * vector keys); the rest is the slot. Any crash, sanitizer report or read
 * outside the slot is a bug. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twinboot/error.h"
#include "twinboot/image.h"

#ifndef TB_VECTORS_DIR
#define TB_VECTORS_DIR "."
#endif

static struct tb_key keys[3];
static size_t nkeys;

struct slotmem {
    const uint8_t *d;
    uint32_t len;
};

static int slot_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    const struct slotmem *m = f->ctx;
    if (off > m->len || len > m->len - off) {
        abort(); /* the validator must never ask for bytes outside the slot */
    }
    memcpy(buf, m->d + off, len);
    return TB_OK;
}

static int no_write(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    (void)f, (void)off, (void)buf, (void)len;
    abort();
}

static int no_erase(const struct tb_flash *f, uint32_t off)
{
    (void)f, (void)off;
    abort();
}

static void load_key(uint16_t type, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", TB_VECTORS_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return;
    }
    static uint8_t store[3][1024];
    size_t n = fread(store[nkeys], 1, sizeof(store[0]), f);
    fclose(f);
    keys[nkeys] = (struct tb_key){type, store[nkeys], (uint16_t)n};
    nkeys++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    load_key(TB_KEY_ECDSA_P256, "pub-ecdsa-p256.der");
    load_key(TB_KEY_ED25519, "pub-ed25519.der");
    /* the RSA key in the form MCUboot embeds it (PKCS#1), as getpub -e raw gives */
    load_key(TB_KEY_RSA2048, "pub-rsa-2048.der");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20)) {
        return 0;
    }
    struct slotmem m = {data + 1, (uint32_t)(size - 1)};
    struct tb_flash f = {.name = "fuzz", .size = m.len, .sector_size = 1, .write_size = 1,
                         .erased_val = 0xff, .read = slot_read, .program = no_write, .erase = no_erase,
                         .ctx = &m,
                         /* bit 1: a memory-mapped slot, where pure signatures are checked in place */
                         .mapped = (data[0] & 2) ? m.d : NULL};
    struct tb_area a = {&f, 0, m.len};
    struct tb_keyring kr = {keys, (data[0] & 1) ? nkeys : 0};
    struct tb_image_info info;
    int rc = tb_image_validate(&a, &kr, &info);
    if (rc == TB_OK) {
        (void)tb_image_bootable(&info.hdr);
    }
    return 0;
}
