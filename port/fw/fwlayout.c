/* Host helper of scripts/firmware.sh: prints, as shell assignments, where
 * the layout (lib/layout.c, the same table the simulator uses) leaves room
 * for the two bootloaders, so the linker scripts come from that one table.
 * The bootloader of a core is everything on its flash before the first
 * region the layout puts there. */
#include <stdint.h>
#include <stdio.h>

#include "twinboot/layout.h"

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

int main(void)
{
    const struct tb_layout *l = &tb_layout_nrf5340_dk;
    if (l->image_count != 2 || l->img[0].primary.flash != 0 || l->img[1].primary.flash != 1) {
        fprintf(stderr, "fwlayout: the DK layout must put image 0 on flash 0 and image 1 on flash 1\n");
        return 1;
    }
    printf("APP_BOOT_SIZE=0x%x\nNET_BOOT_SIZE=0x%x\n", (unsigned)first_region(l, 0), (unsigned)first_region(l, 1));
    printf("APP_SLOT_OFF=0x%x\nAPP_SLOT_SIZE=0x%x\n", (unsigned)l->img[0].primary.off,
           (unsigned)l->img[0].primary.size);
    printf("NET_SLOT_OFF=0x%x\nNET_SLOT_SIZE=0x%x\n", (unsigned)l->img[1].primary.off,
           (unsigned)l->img[1].primary.size);
    return 0;
}
