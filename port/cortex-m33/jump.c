/* The hand-over to an application, after MCUboot's do_boot (boot/zephyr/main.c,
 * CONFIG_MCUBOOT_CLEANUP_ARM_CORE): the application must find the core as
 * after a reset, apart from PRIMASK, which stays set as under MCUboot. */
#include <stdint.h>

#include "tb_m33.h"

void tb_m33_jump(uint32_t vtor)
{
    __asm__ volatile("cpsid i" ::: "memory");
    for (uint32_t i = 0; i < TB_M33_NVIC_LINES_REGS; i++) {
        TB_M33_NVIC_ICER(i) = 0xffffffffu;
        TB_M33_NVIC_ICPR(i) = 0xffffffffu;
    }
    TB_M33_SYST_CSR = 0;
    TB_M33_SCS_ICSR = TB_M33_ICSR_PENDSTCLR;
    const volatile uint32_t *vt = (const volatile uint32_t *)(uintptr_t)vtor;
    uint32_t msp = vt[0], reset = vt[1];
    TB_M33_SCS_VTOR = vtor;
    /* From here on no stack: limits off, then MSP, CONTROL and the branch. */
    __asm__ volatile("movs r2, #0\n"
                     "msr psplim, r2\n"
                     "msr msplim, r2\n"
                     "msr msp, %0\n"
                     "msr control, r2\n"
                     "isb\n"
                     "dsb\n"
                     "bx %1\n" ::"r"(msp),
                     "r"(reset)
                     : "r2", "memory");
    __builtin_unreachable();
}
