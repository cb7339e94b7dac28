/* App core: the DK's MX25R6435F (8 MiB, 4 KiB sectors, 256 B pages) through
 * the QSPI peripheral, as a tb_flash (regs §3).
 *
 * 24-bit addresses, 4READ (0xEB) and 4PP (0x38) at 8 MHz SCK, the DK's
 * default, so the chip stays in its low-power mode (high-performance mode is
 * needed only above 8 MHz in quad mode, regs §3.5 step 12). Errata handled:
 * 43 (registers >= 0x600 touched only after an activation with the pins
 * disconnected), 121 (IFCONFIG0 bits 16/17, IFTIMING), 159 (PCLK192M /1 and
 * CPU /2 during every operation). EasyDMA moves words between RAM and the
 * flash: unaligned or non-RAM buffers go through a RAM bounce buffer. */
#include <stddef.h>
#include <string.h>

#include "../nrf5340_port.h"
#include "nrf_io.h"
#include "nrf_regs.h"
#include "twinboot/error.h"

#ifdef TB_NRF_NETCORE

int tb_nrf_qspi_init(struct tb_flash *f)
{
    (void)f;
    return TB_E_UNSUPPORTED; /* QSPI is an app-core peripheral (regs §1.2) */
}
int tb_nrf_qspi_deinit(void) { return TB_E_UNSUPPORTED; }

#else

#define QSPI_SIZE 0x00800000u   /* 64 Mbit (regs §3.1) */
#define QSPI_SECTOR 0x1000u     /* erase type 4 KiB, opcode 0x20 */
#define QSPI_PAGE 256u          /* page-program unit (SFDP, PPSIZE 256) */
#define QSPI_BOUNCE 256u        /* RAM bounce buffer: one flash page */
#define QSPI_DMA_MAX 0x8000u    /* per EasyDMA transfer, well below the 20-bit count limit */

/* DK pins, P0.13..P0.18 (regs §3.1) */
#define PIN_SCK 17u
#define PIN_CSN 18u
#define PIN_IO0 13u
#define PIN_IO1 14u
#define PIN_IO2 15u
#define PIN_IO3 16u

/* Custom instructions, LIO2 = LIO3 = 1 so IO3 is never taken as HOLD#/RESET#
 * (regs §3.5 table) */
#define CI_WREN 0x00003106u
#define CI_WRDI 0x00003104u
#define CI_RDSR 0x00003205u
#define CI_WRSR1 0x0000B201u    /* 1 data byte, auto-WREN (bit 15) */
#define CI_RDID 0x0000349Fu
#define CI_RDP 0x000031ABu      /* release from deep power-down */

#define SR_WIP 0x01u
#define SR_QE 0x40u             /* QE = bit 6 of SR1 (S1B6, regs §3.1) */
#define MX25R6435F_ID 0x001728C2u /* JEDEC C2 28 17, byte 0 first (regs §3.1) */

/* IFCONFIG0 = READOC READ4IO (4) | WRITEOC PP4IO (3 << 3) | 24-bit | PPSIZE 256 (regs §3.5 step 6) */
#define IFCONFIG0_VAL 0x0000001Cu
/* IFCONFIG1: SCKFREQ 11 -> 96 MHz / 12 = 8 MHz at PCLK192M /1 (regs §3.2);
 * SCKDELAY 0x80 (reset value, nrfutil's DK setting); SPI mode 0; DPMEN 0. */
#define IFCONFIG1_SCKFREQ 11u
#define IFCONFIG1_SCKDELAY 0x80u

/* Bounds for the polls. Chip timings are not confirmed (regs §9 item 3),
 * so they are generous: a transfer moves >= 2 bytes/us at 8 MHz quad. */
#define T_TASK_US 1000u
#define T_WRSR_US 100000u
#define T_PROGRAM_US 50000u
#define T_ERASE_US 1000000u
#define T_EXIT_DPD_US 35u       /* t-exit-dpd (regs §3.1) */
#define T_DIV_US 7u             /* after a HFCLK192MCTRL change (regs §3.3) */

static struct {
    int active;
    uint32_t psel[6];
    uint32_t bounce[QSPI_BOUNCE / 4]; /* word-aligned, in RAM (EasyDMA rules, regs §3.2) */
} q;

static const uint32_t psel_off[6] = {TB_QSPI_PSEL_SCK, TB_QSPI_PSEL_CSN, TB_QSPI_PSEL_IO0,
                                     TB_QSPI_PSEL_IO1, TB_QSPI_PSEL_IO2, TB_QSPI_PSEL_IO3};

static void qspi_clock_on(void)
{
    /* Erratum 159 (regs §3.3): PCLK192M /1 and CPU /2 during QSPI use; the
     * /4 reset divider may only be used while QSPI is idle. */
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_HFCLKCTRL, 1u);     /* CPU 64 MHz */
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_HFCLK192MCTRL, 0u); /* PCLK192M /1 */
    tb_nrf_delay_us(T_DIV_US);
}

static int qspi_task(uint32_t task, uint32_t timeout_us)
{
    /* Each operation waits for its own READY, so the peripheral is idle
     * here; STATUS (0x604) is not polled: erratum 43 covers it. */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_EVENTS_READY, 0u);  /* clear, then trigger */
    tb_nrf_wr(TB_NRF_QSPI + task, 1u); /* READY when done (all but DEACTIVATE) */
    return tb_nrf_poll(TB_NRF_QSPI + TB_QSPI_EVENTS_READY, 1u, 1u, timeout_us, 1u);
}

/* Erratum 43 (regs §3.4): before registers >= 0x600 are touched, activate
 * with all six pins disconnected, then put the pins back. The disconnected
 * activation also cannot hang on a chip in deep power-down. */
static int qspi_erratum43(void)
{
    for (int i = 0; i < 6; i++) {
        tb_nrf_wr(TB_NRF_QSPI + psel_off[i], TB_PSEL_DISCONNECTED); /* disconnect (kept in q.psel) */
    }
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_EVENTS_READY, 0u); /* clear READY */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_TASKS_ACTIVATE, 1u); /* activate, wait READY */
    int rc = tb_nrf_poll(TB_NRF_QSPI + TB_QSPI_EVENTS_READY, 1u, 1u, T_TASK_US, 1u);
    for (int i = 0; i < 6; i++) {
        tb_nrf_wr(TB_NRF_QSPI + psel_off[i], q.psel[i]); /* restore the pins */
    }
    return rc;
}

/* One custom instruction (regs §3.5): data first, clear READY, CINSTRCONF
 * (the write starts it), wait READY, read the data back. */
static int qspi_cinstr(uint32_t conf, uint32_t dat0, uint32_t *out)
{
    int rc = qspi_erratum43();
    if (rc != TB_OK) {
        return rc;
    }
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_CINSTRDAT0, dat0); /* data bytes 0-3 first */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_EVENTS_READY, 0u); /* clear READY */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_CINSTRCONF, conf); /* this write starts it */
    rc = tb_nrf_poll(TB_NRF_QSPI + TB_QSPI_EVENTS_READY, 1u, 1u, T_TASK_US, 1u);
    if (rc == TB_OK && out != NULL) {
        *out = tb_nrf_rd(TB_NRF_QSPI + TB_QSPI_CINSTRDAT0);
    }
    return rc;
}

/* Poll the status register until the write/erase in progress is over
 * (WIP = 0); READY of a task does not say the chip has finished (regs §3.5
 * steps 14-15). Returns the last status value in *sr. */
static int qspi_wait_wip(uint32_t timeout_us, uint32_t step_us, uint32_t *sr)
{
    uint32_t waited = 0, v = 0;
    for (;;) {
        int rc = qspi_cinstr(CI_RDSR, 0, &v);
        if (rc != TB_OK) {
            return rc;
        }
        if ((v & SR_WIP) == 0) {
            if (sr != NULL) {
                *sr = v & 0xFFu;
            }
            return TB_OK;
        }
        if (waited >= timeout_us) {
            return TB_E_IO;
        }
        tb_nrf_delay_us(step_us);
        waited += step_us;
    }
}

static int qspi_check(uint32_t off, uint32_t len)
{
    return (off > QSPI_SIZE || len > QSPI_SIZE - off) ? TB_E_RANGE : TB_OK;
}

/* One EasyDMA read of n bytes (n a multiple of 4, <= QSPI_DMA_MAX) from a
 * word-aligned flash offset into a word-aligned RAM address (regs §3.5 step 13). */
static int qspi_dma_read(uint32_t off, uint32_t ram, uint32_t n)
{
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_READ_SRC, off); /* word-aligned flash offset */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_READ_DST, ram); /* word-aligned RAM address */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_READ_CNT, n); /* bytes, a multiple of 4 */
    return qspi_task(TB_QSPI_TASKS_READSTART, T_TASK_US + n);
}

static int qspi_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    (void)f;
    int rc = qspi_check(off, len);
    if (rc != TB_OK || len == 0) {
        return rc;
    }
    if (buf == NULL) {
        return TB_E_INVAL;
    }
    if (!q.active) {
        return TB_E_IO;
    }
    uint8_t *dst = buf;
    while (len > 0) {
        uint32_t ram = tb_nrf_ram_addr(dst);
        if ((off & 3u) == 0 && (ram & 3u) == 0 && len >= 4 && tb_nrf_in_ram(ram, len & ~3u)) {
            /* straight into the caller's buffer */
            uint32_t n = (len & ~3u) > QSPI_DMA_MAX ? QSPI_DMA_MAX : (len & ~3u);
            rc = qspi_dma_read(off, ram, n);
            if (rc != TB_OK) {
                return rc;
            }
            dst += n;
            off += n;
            len -= n;
            continue;
        }
        /* through the bounce buffer: an aligned window around [off, off+len) */
        uint32_t head = off & 3u;
        uint32_t n = head + len > QSPI_BOUNCE ? QSPI_BOUNCE : ((head + len + 3u) & ~3u);
        if ((off - head) + n > QSPI_SIZE) {
            n = QSPI_SIZE - (off - head);
        }
        rc = qspi_dma_read(off - head, tb_nrf_ram_addr(q.bounce), n);
        if (rc != TB_OK) {
            return rc;
        }
        uint32_t take = n - head < len ? n - head : len;
        memcpy(dst, (const uint8_t *)q.bounce + head, take);
        dst += take;
        off += take;
        len -= take;
    }
    return TB_OK;
}

static int qspi_program(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    (void)f;
    int rc = qspi_check(off, len);
    if (rc != TB_OK) {
        return rc;
    }
    if ((off & 3u) != 0 || (len & 3u) != 0) {
        return TB_E_ALIGN; /* WRITE.DST and CNT are word-granular (regs §3.2) */
    }
    if (len == 0) {
        return TB_OK;
    }
    if (buf == NULL) {
        return TB_E_INVAL;
    }
    if (!q.active) {
        return TB_E_IO;
    }
    const uint8_t *src = buf;
    while (len > 0 && rc == TB_OK) {
        /* at most to the end of the 256-byte page: a page program never
         * wraps (whether the peripheral splits pages itself is inferred
         * only, regs §3.5 step 15) */
        uint32_t n = QSPI_PAGE - (off % QSPI_PAGE);
        if (n > len) {
            n = len;
        }
        memcpy(q.bounce, src, n); /* the source may be in flash or unaligned */
        rc = qspi_cinstr(CI_WREN, 0, NULL); /* regs §3.5 step 15: WREN before the write */
        if (rc == TB_OK) {
            tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_WRITE_DST, off); /* regs §3.2 WRITE: word-aligned */
            tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_WRITE_SRC, tb_nrf_ram_addr(q.bounce)); /* RAM, aligned */
            tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_WRITE_CNT, n); /* multiple of 4, within one page */
            rc = qspi_task(TB_QSPI_TASKS_WRITESTART, T_TASK_US + n);
        }
        if (rc == TB_OK) {
            rc = qspi_wait_wip(T_PROGRAM_US, 10u, NULL);
        }
        if (rc == TB_OK) {
            /* read back: the chip silently ignores a program it was not
             * write-enabled for, and NOR cannot set bits */
            rc = qspi_dma_read(off, tb_nrf_ram_addr(q.bounce), n);
            if (rc == TB_OK && memcmp(q.bounce, src, n) != 0) {
                rc = TB_E_IO;
            }
        }
        src += n;
        off += n;
        len -= n;
    }
    int rc2 = qspi_cinstr(CI_WRDI, 0, NULL); /* and WRDI after the batch */
    return rc != TB_OK ? rc : rc2;
}

static int qspi_erase(const struct tb_flash *f, uint32_t sector_off)
{
    (void)f;
    int rc = qspi_check(sector_off, QSPI_SECTOR);
    if (rc != TB_OK) {
        return rc;
    }
    if (sector_off % QSPI_SECTOR != 0) {
        return TB_E_ALIGN;
    }
    if (!q.active) {
        return TB_E_IO;
    }
    rc = qspi_cinstr(CI_WREN, 0, NULL);
    if (rc == TB_OK) {
        tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_ERASE_PTR, sector_off); /* regs §3.5 step 14 */
        tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_ERASE_LEN, 0u);         /* 0 = 4 KiB (0x20) */
        rc = qspi_task(TB_QSPI_TASKS_ERASESTART, T_TASK_US);
    }
    if (rc == TB_OK) {
        rc = qspi_wait_wip(T_ERASE_US, 100u, NULL); /* the chip is busy until WIP = 0 */
    }
    int rc2 = qspi_cinstr(CI_WRDI, 0, NULL);
    /* read back: a protected sector (block-protect bits an earlier image
     * set) ignores the erase without a word */
    for (uint32_t o = 0; rc == TB_OK && o < QSPI_SECTOR; o += QSPI_BOUNCE) {
        rc = qspi_dma_read(sector_off + o, tb_nrf_ram_addr(q.bounce), QSPI_BOUNCE);
        for (uint32_t i = 0; rc == TB_OK && i < QSPI_BOUNCE / 4; i++) {
            if (q.bounce[i] != 0xFFFFFFFFu) {
                rc = TB_E_IO;
            }
        }
    }
    return rc != TB_OK ? rc : rc2;
}

static void qspi_pins(void)
{
    /* regs §3.5 step 1 (Zephyr pinctrl): CSN and IO3 outputs set high (so a
     * disconnected peripheral leaves the chip deselected, not on HOLD), the
     * others inputs with the buffer disconnected; all drive H0H1. */
    tb_nrf_wr(TB_NRF_GPIO_P0 + TB_GPIO_OUTSET, (1u << PIN_CSN) | (1u << PIN_IO3)); /* high first */
    tb_nrf_wr(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(PIN_CSN), 0x303u); /* out, in-buffer off, H0H1 */
    tb_nrf_wr(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(PIN_IO3), 0x303u); /* out, in-buffer off, H0H1 */
    tb_nrf_wr(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(PIN_SCK), 0x302u); /* in, buffer off, H0H1 */
    tb_nrf_wr(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(PIN_IO0), 0x302u); /* in, buffer off, H0H1 */
    tb_nrf_wr(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(PIN_IO1), 0x302u); /* in, buffer off, H0H1 */
    tb_nrf_wr(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(PIN_IO2), 0x302u); /* in, buffer off, H0H1 */
}

int tb_nrf_qspi_init(struct tb_flash *f)
{
    if (f == NULL) {
        return TB_E_INVAL;
    }
    q.active = 0;
    qspi_pins();
    qspi_clock_on(); /* regs §3.5 step 2 */

    /* step 3: the dedicated pins (PORT 0, CONNECT = 0) */
    q.psel[0] = PIN_SCK;
    q.psel[1] = PIN_CSN;
    q.psel[2] = PIN_IO0;
    q.psel[3] = PIN_IO1;
    q.psel[4] = PIN_IO2;
    q.psel[5] = PIN_IO3;
    for (int i = 0; i < 6; i++) {
        tb_nrf_wr(TB_NRF_QSPI + psel_off[i], q.psel[i]); /* PIN 4:0, PORT 0, CONNECT 0 */
    }
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_INTENCLR, 0xFFFFFFFFu); /* polled: no interrupt */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_ENABLE, 1u);            /* activation needs ENABLE = 1 */

    int rc = qspi_erratum43(); /* step 4, before IFCONFIG1/IFTIMING (>= 0x600) */
    if (rc != TB_OK) {
        goto fail;
    }
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_XIPOFFSET, 0u); /* step 5 */
    uint32_t if0 = IFCONFIG0_VAL;                    /* step 6 */
    uint32_t rev = tb_nrf_rev_code();
    if (rev != 2u) {
        /* erratum 121 (rev codes 3, 4, 5 and later): SCKFREQ != 0, so set
         * bit 16 and clear bit 17; then RXDELAY 6 */
        if0 |= 1u << 16;
    }
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_IFCONFIG0, if0); /* regs §3.2 IFCONFIG0 fields */
    if (rev != 2u) {
        tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_IFTIMING, 0x600u); /* erratum 121: RXDELAY 6 */
    }
    /* step 7: keep bits 23:8 as nrfx does; SCKDELAY, mode 0, SCKFREQ */
    uint32_t if1 = tb_nrf_rd(TB_NRF_QSPI + TB_QSPI_IFCONFIG1) & 0x00FFFF00u;
    if1 &= ~((1u << 24) | (1u << 25)); /* DPMEN 0 (do not enter DPM), SPIMODE 0 */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_IFCONFIG1, if1 | IFCONFIG1_SCKDELAY | (IFCONFIG1_SCKFREQ << 28)); /* regs §3.2 */

    rc = qspi_task(TB_QSPI_TASKS_ACTIVATE, T_TASK_US); /* step 8, with the pins connected */
    if (rc != TB_OK) {
        goto fail;
    }
    /* step 9: an earlier image may have left the chip in deep power-down */
    rc = qspi_cinstr(CI_RDP, 0, NULL);
    if (rc != TB_OK) {
        goto fail;
    }
    tb_nrf_delay_us(T_EXIT_DPD_US);
    /* step 10: the right chip answers */
    uint32_t id = 0;
    rc = qspi_cinstr(CI_RDID, 0, &id);
    if (rc == TB_OK && (id & 0x00FFFFFFu) != MX25R6435F_ID) {
        rc = TB_E_IO;
    }
    if (rc != TB_OK) {
        goto fail;
    }
    /* step 11: quad enable (QE, SR1 bit 6), needed by READ4IO / PP4IO */
    uint32_t sr = 0;
    rc = qspi_wait_wip(T_ERASE_US, 100u, &sr); /* a write an earlier image started */
    if (rc == TB_OK && (sr & SR_QE) == 0) {
        rc = qspi_cinstr(CI_WRSR1, (sr | SR_QE) & 0xFFu, NULL);
        if (rc == TB_OK) {
            rc = qspi_wait_wip(T_WRSR_US, 100u, &sr);
        }
        if (rc == TB_OK && (sr & SR_QE) == 0) {
            rc = TB_E_IO; /* QE did not stick (status register protected?) */
        }
    }
    if (rc != TB_OK) {
        goto fail;
    }

    memset(f, 0, sizeof(*f));
    f->name = "qspi";
    f->size = QSPI_SIZE;
    f->sector_size = QSPI_SECTOR;
    f->write_size = 4u; /* EasyDMA moves whole words (regs §3.2) */
    f->erased_val = 0xFFu;
    f->read = qspi_read;
    f->program = qspi_program;
    f->erase = qspi_erase;
    f->ctx = NULL;
    q.active = 1;
    return TB_OK;

fail:
    (void)tb_nrf_qspi_deinit();
    return rc;
}

int tb_nrf_qspi_deinit(void)
{
    /* regs §3.5 step 16 (nrfx qspi_deactivate): DEACTIVATE (it raises no
     * READY), ENABLE = 0, clear READY, PCLK192M back to its /4 reset value */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_TASKS_DEACTIVATE, 1u); /* no READY follows */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_ENABLE, 0u); /* releases the pins to GPIO */
    tb_nrf_wr(TB_NRF_QSPI + TB_QSPI_EVENTS_READY, 0u); /* no stale event */
    for (int i = 0; i < 6; i++) {
        tb_nrf_wr(TB_NRF_QSPI + psel_off[i], TB_PSEL_DISCONNECTED); /* PSEL reset value */
    }
    static const uint8_t pins[6] = {PIN_SCK, PIN_CSN, PIN_IO0, PIN_IO1, PIN_IO2, PIN_IO3};
    for (int i = 0; i < 6; i++) {
        tb_nrf_wr(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(pins[i]), TB_GPIO_PIN_CNF_RESET); /* reset value (regs §4.3) */
    }
    tb_nrf_wr(TB_NRF_CLOCK + TB_CLK_HFCLK192MCTRL, 2u); /* /4: its reset value (regs §3.3) */
    q.active = 0;
    return TB_OK;
}

#endif
