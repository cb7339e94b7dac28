/* CPU0's tick count and the power cut. SysTick interrupts every PERIOD
 * ticks (the last period shortened to land on the cut), so a cut stops the
 * run within one tick (50 instructions) of the asked instruction count. */
#include "an521.h"
#include "semihost.h"
#include "tb_m33.h"
#include "twinboot/bootlog.h"

#define PERIOD 1000u

static volatile uint32_t base;   /* ticks before the current period */
static volatile uint32_t period; /* length of the current period */
static uint32_t cut_at;

static uint32_t next_period(void)
{
    if (cut_at != 0 && cut_at - base < PERIOD) {
        return cut_at - base;
    }
    return PERIOD;
}

void tb_m33_systick(void)
{
    base += period;
    if (cut_at != 0 && base >= cut_at) {
        tb_log_str(&tb_q_log, "[power] cut after ");
        tb_log_u32(&tb_q_log, base);
        tb_log_str(&tb_q_log, " ticks\n");
        tb_sh_exit(TB_Q_EXIT_CUT);
    }
    period = next_period();
    TB_M33_SYST_RVR = period - 1u;
}

void tb_q_clock_start(uint32_t ticks, uint32_t cut_ticks)
{
    base = ticks;
    cut_at = cut_ticks;
    if (cut_at != 0 && base >= cut_at) {
        cut_at = base + 1u;
    }
    period = next_period();
    TB_M33_SYST_CSR = 0;
    TB_M33_SYST_RVR = period - 1u;
    TB_M33_SYST_CVR = 0;
    TB_M33_SYST_CSR = 7u; /* processor clock, interrupt, enable */
    __asm__ volatile("cpsie i" ::: "memory");
}

uint32_t tb_q_ticks(void)
{
    uint32_t b, v;
    do {
        b = base;
        v = TB_M33_SYST_CVR;
    } while (b != base);
    return b + (TB_M33_SYST_RVR - v);
}

void tb_q_sleep(void) { __asm__ volatile("wfi" ::: "memory"); }
