/* Cortex-M33 start-up without libc: the vector table, the reset handler
 * (stack limit, stack paint, .data copy, .bss clear) and the fault handlers.
 * Built with -ffreestanding -fno-tree-loop-distribute-patterns so the loops
 * below stay loops instead of becoming memcpy/memset calls. */
#include <stdint.h>

#include "tb_m33.h"

#define STACK_PAINT 0x5354434bu /* "STCK": a word the stack never held */

void tb_m33_reset(void) __attribute__((noreturn));
static void fault_entry(void);
static void systick_entry(void);

/* The 16 system exceptions; a bootloader enables no device interrupt. */
__attribute__((section(".vectors"), used)) void (*const tb_m33_vectors[16])(void) = {
    (void (*)(void))(uintptr_t)__stack_top,
    tb_m33_reset,
    fault_entry, /* NMI */
    fault_entry, /* HardFault */
    fault_entry, /* MemManage */
    fault_entry, /* BusFault */
    fault_entry, /* UsageFault */
    fault_entry, /* SecureFault */
    0, 0, 0,
    fault_entry, /* SVCall: nothing here calls SVC */
    fault_entry, /* DebugMonitor */
    0,
    fault_entry, /* PendSV */
    systick_entry,
};

__attribute__((weak)) void tb_m33_fault(uint32_t ipsr, const uint32_t *frame)
{
    (void)ipsr, (void)frame;
    for (;;) {
    }
}

__attribute__((weak)) void tb_m33_systick(void) {}

static void systick_entry(void) { tb_m33_systick(); }

/* Which stack held the frame (EXC_RETURN bit 2), then the C handler. */
__attribute__((naked)) static void fault_entry(void)
{
    __asm__ volatile("tst lr, #4\n"
                     "ite eq\n"
                     "mrseq r1, msp\n"
                     "mrsne r1, psp\n"
                     "mrs r0, ipsr\n"
                     "b tb_m33_fault\n");
}

void tb_m33_reset(void)
{
    /* A stack overflow now faults instead of running into .bss. */
    __asm__ volatile("msr msplim, %0" ::"r"(__stack_limit));
    /* Paint the stack below what this function uses, for the high-water mark. */
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *p = __stack_limit; (uint32_t)(uintptr_t)p < sp - 64u; p++) {
        *p = STACK_PAINT;
    }
    const uint32_t *src = __data_load;
    for (uint32_t *dst = __data_start; dst < __data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = __bss_start; dst < __bss_end;) {
        *dst++ = 0;
    }
    tb_fw_main();
}

uint32_t tb_m33_stack_size(void) { return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit); }

uint32_t tb_m33_stack_unused(void)
{
    const volatile uint32_t *p = __stack_limit;
    while ((uintptr_t)p < (uintptr_t)__stack_top && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)p - (uintptr_t)__stack_limit);
}
