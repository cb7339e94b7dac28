/* Host helper of scripts/firmware.sh: prints, as shell assignments, where
 * the layout (lib/layout_dk.c, the table the simulator uses, or what
 * `twinboot layout c` made of a Partition Manager file) leaves room for the
 * two bootloaders and their RAM, so the linker scripts and the ports' RAM
 * addresses come from that one table.
 * - Flash: the bootloader of a core is everything on its flash before the
 *   first region the layout puts there.
 * - App-core RAM: the shared region (command block + window) is where the
 *   layout says; the app bootloader's own RAM and the LZMA decoder's RAM go
 *   in the first gaps of app RAM that take them. */
#include <stdint.h>
#include <stdio.h>

#include "twinboot/decompress.h"
#include "twinboot/layout.h"

#define APP_RAM_BASE 0x20000000u /* nRF5340 app core: 512 KiB of RAM */
#define APP_RAM_END 0x20080000u
#define BOOT_RAM_SIZE 0x10000u   /* the app bootloader's own RAM: data, bss, stack */
#define RAM_ALIGN 0x2000u        /* SPU RAM regions are 8 KiB */

static uint32_t first_region(const struct tb_layout *l, unsigned flash)
{
    uint32_t lo = UINT32_MAX;
    for (int i = 0; i < l->image_count; i++) {
        const struct tb_region *r[4] = {&l->img[i].primary, &l->img[i].secondary, &l->img[i].backup,
                                        &l->img[i].status};
        for (int k = 0; k < 4; k++) {
            if (r[k]->size != 0 && r[k]->flash == flash && r[k]->off < lo) {
                lo = r[k]->off;
            }
        }
    }
    return lo;
}

struct span {
    uint32_t lo, hi;
};

/* First-fit: the lowest aligned place of size bytes in app RAM that meets none of the taken spans. */
static uint32_t place(uint32_t size, const struct span *taken, int n)
{
    for (uint32_t at = APP_RAM_BASE; at + size <= APP_RAM_END; at += RAM_ALIGN) {
        int clash = 0;
        for (int i = 0; i < n; i++) {
            clash |= at < taken[i].hi && taken[i].lo < at + size;
        }
        if (!clash) {
            return at;
        }
    }
    return 0;
}

int main(void)
{
    const struct tb_layout *l = &tb_layout_nrf5340_dk;
    if (l->image_count != 2 || l->img[0].primary.flash != 0 || l->img[1].primary.flash != 1) {
        fprintf(stderr, "fwlayout: the DK layout must put image 0 on flash 0 and image 1 on flash 1\n");
        return 1;
    }
    const uint32_t shm = tb_layout_nrf5340_dk_shmem_base, shm_size = tb_layout_nrf5340_dk_shmem_size;
    if (shm < APP_RAM_BASE || shm_size > APP_RAM_END - shm || shm % RAM_ALIGN != 0) {
        fprintf(stderr, "fwlayout: the shared RAM region 0x%x+0x%x is not an 8 KiB-aligned part of app RAM\n",
                (unsigned)shm, (unsigned)shm_size);
        return 1;
    }
    struct span taken[3] = {{shm, shm + shm_size}};
    const uint32_t boot_ram = place(BOOT_RAM_SIZE, taken, 1);
    taken[1] = (struct span){boot_ram, boot_ram + BOOT_RAM_SIZE};
    const uint32_t decomp = boot_ram ? place(TB_DECOMP_RAM, taken, 2) : 0;
    if (boot_ram == 0 || decomp == 0) {
        fprintf(stderr, "fwlayout: app RAM has no room for the bootloader's 64 KiB and the LZMA decoder's %u bytes "
                        "beside the shared region\n", (unsigned)TB_DECOMP_RAM);
        return 1;
    }
    printf("APP_BOOT_SIZE=0x%x\nNET_BOOT_SIZE=0x%x\n", (unsigned)first_region(l, 0), (unsigned)first_region(l, 1));
    printf("APP_SLOT_OFF=0x%x\nAPP_SLOT_SIZE=0x%x\n", (unsigned)l->img[0].primary.off,
           (unsigned)l->img[0].primary.size);
    printf("NET_SLOT_OFF=0x%x\nNET_SLOT_SIZE=0x%x\n", (unsigned)l->img[1].primary.off,
           (unsigned)l->img[1].primary.size);
    printf("SHM_BASE=0x%x\nSHM_SIZE=0x%x\nBOOT_RAM_BASE=0x%x\nBOOT_RAM_SIZE=0x%x\nDECOMP_BASE=0x%x\n", (unsigned)shm,
           (unsigned)shm_size, (unsigned)boot_ram, (unsigned)BOOT_RAM_SIZE, (unsigned)decomp);
    return 0;
}
