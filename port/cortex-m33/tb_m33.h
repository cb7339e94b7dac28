/* Cortex-M33 support shared by every twinboot firmware image: start-up
 * (startup.c), the hand-over to an application (jump.c), the stack
 * high-water mark, and the symbols of the shared linker script (sections.ld).
 * Freestanding: no libc, no heap. */
#ifndef TB_M33_H
#define TB_M33_H

#include <stdint.h>

/* Symbols of sections.ld. */
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

/* The image's main, called by the reset handler with .data and .bss set up.
 * It does not return: it jumps to an application or waits. */
void tb_fw_main(void) __attribute__((noreturn));

/* Called on HardFault and every unexpected exception, with the exception
 * number (IPSR) and the stacked frame (r0-r3, r12, lr, pc, xpsr). Weak: the
 * default spins; a port reports it (the QEMU port ends the run). */
void tb_m33_fault(uint32_t ipsr, const uint32_t *frame);

/* Called by SysTick. Weak: the default does nothing. */
void tb_m33_systick(void);

/* Hand the CPU to the application whose vector table is at vtor, the way
 * MCUboot's do_boot does with CONFIG_MCUBOOT_CLEANUP_ARM_CORE: interrupts
 * off, every NVIC line disabled and its pending bit cleared, SysTick off,
 * MSPLIM/PSPLIM 0, VTOR = vtor, CONTROL = 0, MSP from the table, then the
 * reset vector. The application starts with PRIMASK set, as under MCUboot. */
void tb_m33_jump(uint32_t vtor) __attribute__((noreturn));

/* Bytes of the stack never written since reset (the reset handler paints
 * the stack); the high-water mark is the stack size minus this. */
uint32_t tb_m33_stack_unused(void);
uint32_t tb_m33_stack_size(void);

/* Core registers (ARMv8-M, the System Control Space). */
#define TB_M33_SCS_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define TB_M33_SCS_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define TB_M33_SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define TB_M33_SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define TB_M33_SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define TB_M33_NVIC_ICER(n) (*(volatile uint32_t *)(0xE000E180u + 4u * (n)))
#define TB_M33_NVIC_ICPR(n) (*(volatile uint32_t *)(0xE000E280u + 4u * (n)))
#define TB_M33_NVIC_LINES_REGS 16u /* ICER0..15: up to 496 interrupt lines */
#define TB_M33_ICSR_PENDSTCLR (1u << 25)

#endif
