/* Shared test harness: a simulated nRF5340 with a small layout (one swap
 * image, optionally a network-core image), signed images made in memory,
 * and snapshots for power-cut sweeps. */
#ifndef TB_TEST_HARNESS_H
#define TB_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imgbuild.h"
#include "twinboot/boot.h"
#include "twinboot/sim.h"

struct world {
    struct tb_simdev d;
    struct tb_simnet net;
    bool has_net;
    struct tb_device dev;
    struct tb_layout lay;
    struct tb_boot_config cfg;
    struct tb_key key;
    uint8_t *der;
    uint8_t *mem[TB_SIM_NFLASH], *written[TB_SIM_NFLASH]; /* snapshot */
};

/* App slots are slot_size bytes (4 KiB sectors). With net: image 1 handover,
 * a 32 KiB net slot, a 36 KiB secondary, a backup region of two 36 KiB
 * halves, and a shared window of 36 KiB. */
void world_init(struct world *w, uint8_t strategy, uint32_t slot_size, bool net);
void world_free(struct world *w);
void world_snapshot(struct world *w);
/* Back to the snapshot, as after a power cycle (RAM contents lost, from seed). */
void world_restore(struct world *w, uint64_t seed);
/* A power cut happened: power on again, RAM lost. */
void world_power_cycle(struct world *w, uint64_t seed);

/* A signed (Ed25519 vector key) image of kib KiB for a slot of slot_size;
 * seed makes the payload distinct; deps optional. */
struct tb_signed make_signed(uint8_t major, size_t kib, uint32_t slot_size, uint32_t seed,
                             const struct tb_image_dep *deps, size_t ndeps);
/* The same from sign options (header size, slot size, max_sectors and align
 * are filled in when 0), signed with keyfile (a vector file name; NULL: the
 * Ed25519 vector key). */
struct tb_signed make_signed_opts(struct tb_sign_opts *o, size_t kib, uint32_t seed, const char *keyfile);
/* Write an image into a region, as a debugger or an upload would. */
void put_region(struct world *w, const struct tb_region *r, const struct tb_signed *s);
/* Bytes one hash-only validation of the image in r hashes (counted by the
 * crypto backend), for the boot record's hashed_bytes. */
uint32_t hashed_by_validation(struct world *w, const struct tb_region *r);
/* The SHA256 TLV of a signed image. */
const uint8_t *image_hash(const struct tb_signed *s);

#endif
