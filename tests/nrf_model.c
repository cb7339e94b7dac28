/* The register model behind tests/test_nrf_drivers.c: see nrf_model.h.
 * Facts modelled are those of docs/nrf5340-registers.md
 * (regs §n), the same the drivers are written against; where the model
 * checks a rule, a broken rule is counted, never silently accepted. */
#include "nrf_model.h"

#include <stdlib.h>
#include <string.h>

#include "nrf_io.h"
#include "nrf_regs.h"

struct nrf_model M;

/* ---- plain register blocks ---------------------------------------------- */

#define BLK_MAX 16
static struct {
    uint32_t base;
    uint32_t r[1024];
} blk[BLK_MAX];
static int nblk;

static uint32_t *reg_slot(uint32_t addr)
{
    uint32_t base = addr & ~0xFFFu;
    for (int i = 0; i < nblk; i++) {
        if (blk[i].base == base) {
            return &blk[i].r[(addr & 0xFFFu) / 4];
        }
    }
    if (nblk == BLK_MAX) {
        abort(); /* the model covers a fixed set of peripherals */
    }
    blk[nblk].base = base;
    memset(blk[nblk].r, 0, sizeof blk[nblk].r);
    return &blk[nblk++].r[(addr & 0xFFFu) / 4];
}

uint32_t m_reg(uint32_t addr) { return *reg_slot(addr); }
void m_set_reg(uint32_t addr, uint32_t val) { *reg_slot(addr) = val; }

/* ---- RAM as EasyDMA sees it ---------------------------------------------- */

#ifdef TB_NRF_NETCORE
#define RAM_BASE 0x21000000u
#define ARENA_SIZE 0x8000u
#define SLOT_SIZE 0x400u
#else
#define RAM_BASE 0x20000000u
#define ARENA_SIZE 0x40000u
#define SLOT_SIZE 0x1000u
#endif
#define SLOTS 32
#define FLASH_PTR_BASE 0x00090000u /* where "in flash" buffers appear */

static _Alignas(16) uint8_t arena[ARENA_SIZE];
static const void *slot_ptr[SLOTS];
static int nslot;
static const void *flash_ptr[SLOTS];
static int nflash_ptr;

uint8_t *m_arena(size_t off) { return arena + off; }

void m_in_flash(const void *p)
{
    if (nflash_ptr < SLOTS) {
        flash_ptr[nflash_ptr++] = p;
    }
}

uint32_t tb_nrf_ram_addr(const void *p)
{
    const uint8_t *b = p;
    if (b >= arena && b < arena + ARENA_SIZE) {
        return RAM_BASE + (uint32_t)(b - arena);
    }
    for (int i = 0; i < nflash_ptr; i++) {
        if (flash_ptr[i] == p) {
            return FLASH_PTR_BASE + (uint32_t)i * 0x1000u + (uint32_t)((uintptr_t)p & 3u);
        }
    }
    int i = 0;
    while (i < nslot && slot_ptr[i] != p) {
        i++;
    }
    if (i == nslot) {
        if (nslot == SLOTS) {
            abort();
        }
        slot_ptr[nslot++] = p;
    }
    return RAM_BASE + ARENA_SIZE + (uint32_t)i * SLOT_SIZE + (uint32_t)((uintptr_t)p & 3u);
}

/* The host memory behind a bus address, or NULL if it is not RAM the model
 * knows (then the transfer is a driver bug). */
static uint8_t *ram_resolve(uint32_t a, uint32_t len, int *direct)
{
    *direct = 0;
    if (a >= RAM_BASE && a - RAM_BASE < ARENA_SIZE && len <= ARENA_SIZE - (a - RAM_BASE)) {
        *direct = 1;
        return arena + (a - RAM_BASE);
    }
    uint32_t s0 = RAM_BASE + ARENA_SIZE;
    if (a >= s0 && (a - s0) / SLOT_SIZE < (uint32_t)nslot) {
        uint32_t i = (a - s0) / SLOT_SIZE;
        uint32_t in = a - (s0 + i * SLOT_SIZE) - (uint32_t)((uintptr_t)slot_ptr[i] & 3u);
        if (in + len <= SLOT_SIZE) {
            return (uint8_t *)(uintptr_t)slot_ptr[i] + in;
        }
    }
    return NULL;
}

/* ---- time ----------------------------------------------------------------- */

void tb_nrf_model_delay(uint32_t us) { M.now_us += us; }

/* ---- reset ------------------------------------------------------------------ */

void m_reset(uint32_t rev)
{
    uint8_t *flash = M.flash, *ext = M.ext;
    memset(&M, 0, sizeof M);
    nblk = 0;
    nslot = 0;
    nflash_ptr = 0;
    M.flash = flash ? flash : malloc(TB_NRF_FLASH_SIZE);
    M.ext = ext ? ext : malloc(0x800000u);
    if (M.flash == NULL || M.ext == NULL) {
        abort();
    }
    memset(M.flash, 0xFF, TB_NRF_FLASH_SIZE);
    memset(M.ext, 0xFF, 0x800000u);
    M.family = 0x07;
    M.rev = rev;
    M.chip_id = 0x001728C2u;
    /* reset values (regs §2.1, §3.2, §4.1, §4.2, §5.2) */
    m_set_reg(TB_NRF_RESET + TB_RESET_FORCEOFF, 1u);
    m_set_reg(TB_NRF_CLOCK + TB_CLK_HFCLKCTRL, 1u);
    m_set_reg(TB_NRF_CLOCK + TB_CLK_HFCLK192MCTRL, 2u);
    m_set_reg(TB_NRF_CLOCK + TB_CLK_HFCLKSRC, 1u);
    m_set_reg(TB_NRF_SPU + TB_SPU_EXTDOMAIN0, 0x2u);
    for (uint32_t n = 0; n < 64; n++) {
        m_set_reg(TB_NRF_SPU + TB_SPU_RAMREGION(n), 0x17u);
    }
    static const uint32_t qpsel[6] = {TB_QSPI_PSEL_SCK, TB_QSPI_PSEL_CSN, TB_QSPI_PSEL_IO0,
                                      TB_QSPI_PSEL_IO1, TB_QSPI_PSEL_IO2, TB_QSPI_PSEL_IO3};
    for (int i = 0; i < 6; i++) {
        m_set_reg(TB_NRF_QSPI + qpsel[i], 0xFFFFFFFFu);
    }
    m_set_reg(TB_NRF_QSPI + TB_QSPI_IFCONFIG1, 0x00040480u);
    m_set_reg(TB_NRF_QSPI + TB_QSPI_IFTIMING, 0x00000600u);
    m_set_reg(TB_NRF_QSPI + TB_QSPI_XIPEN, 1u);
    for (uint32_t o = TB_UARTE_PSEL_RTS; o <= TB_UARTE_PSEL_RXD; o += 4) {
        m_set_reg(TB_NRF_UARTE0 + o, 0xFFFFFFFFu);
    }
    m_set_reg(TB_NRF_UARTE0 + TB_UARTE_BAUDRATE, 0x04000000u);
    for (uint32_t n = 0; n < 32; n++) {
        m_set_reg(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(n), TB_GPIO_PIN_CNF_RESET);
        m_set_reg(TB_NRF_GPIO_P1 + TB_GPIO_PIN_CNF(n), TB_GPIO_PIN_CNF_RESET);
    }
}

/* ---- NVMC and the internal flash (regs §2) ------------------------------------ */

static int in_flash(uint32_t addr)
{
    return addr - TB_NRF_FLASH_BASE < TB_NRF_FLASH_SIZE; /* unsigned: below the base wraps high */
}

static uint32_t nvmc_mode(void)
{
    uint32_t c = m_reg(TB_NRF_NVMC + TB_NVMC_CONFIG) & 7u;
#ifndef TB_NRF_NETCORE
    /* a secure writer keeps CONFIGNS in step (regs §2.1) */
    if ((m_reg(TB_NRF_NVMC + TB_NVMC_CONFIGNS) & 3u) != c) {
        return 0xFFu;
    }
#endif
    return c;
}

static void flash_store(uint32_t addr, uint32_t val)
{
    uint32_t mode = nvmc_mode();
    uint32_t o = addr - TB_NRF_FLASH_BASE;
    if ((addr & 3u) != 0) {
        M.nvmc_bad_store++;
        return;
    }
    if (mode == TB_NVMC_WEN) {
        if (M.now_us < M.nvmc_next_at) {
            M.nvmc_early_store++;
        }
        uint32_t old;
        memcpy(&old, M.flash + o, 4);
        uint32_t w = old & val; /* NOR: program clears bits only */
        if (M.nvmc_weak_bit) {
            w |= 1u;
        }
        memcpy(M.flash + o, &w, 4);
        M.words_programmed++;
        M.nvmc_next_at = M.now_us + 3;     /* READYNEXT low for a moment */
        M.nvmc_busy_until = M.now_us + 40; /* a word program */
    } else if (mode == TB_NVMC_EEN && val == 0xFFFFFFFFu && o % TB_NRF_FLASH_PAGE == 0) {
        memset(M.flash + o, 0xFF, TB_NRF_FLASH_PAGE);
        M.pages_erased++;
        M.nvmc_busy_until = M.now_us + 87000; /* nrfx's nRF53 page-erase time (regs §2.2) */
        M.nvmc_next_at = M.nvmc_busy_until;
    } else {
        M.nvmc_bad_store++;
    }
}

#ifndef TB_NRF_NETCORE
/* ---- QSPI + MX25R6435F (regs §3) --------------------------------------------- */

static int all_psel_disconnected(void)
{
    for (uint32_t o = TB_QSPI_PSEL_SCK; o <= TB_QSPI_PSEL_IO3; o += 4) {
        if (o != 0x52Cu && m_reg(TB_NRF_QSPI + o) != 0xFFFFFFFFu) {
            return 0;
        }
    }
    return 1;
}

static void qspi_clock_rule(void)
{
    /* erratum 159 (regs §3.3): PCLK192M /1 and CPU /2 while QSPI works */
    if (m_reg(TB_NRF_CLOCK + TB_CLK_HFCLK192MCTRL) != 0 || m_reg(TB_NRF_CLOCK + TB_CLK_HFCLKCTRL) != 1) {
        M.e159_violation++;
    }
}

static void qspi_ready(void) { m_set_reg(TB_NRF_QSPI + TB_QSPI_EVENTS_READY, 1u); }

static void chip_cinstr(uint32_t conf)
{
    uint32_t op = conf & 0xFFu, len = (conf >> 8) & 0xFu;
    qspi_clock_rule();
    if (!M.e43_armed) {
        M.e43_violation++; /* no disconnected activation before it (erratum 43, regs §3.4) */
    }
    M.e43_armed = 0;
    if ((conf & (3u << 12)) != (3u << 12)) {
        M.qspi_bad++; /* IO2/IO3 must stay high (LIO2/LIO3) */
    }
    if (len < 1 || len > 9 || !M.qspi_active) {
        M.qspi_bad++;
        return;
    }
    if (M.nci < M_CI_MAX) {
        M.ci_log[M.nci++] = (uint8_t)op;
    }
    int wip = M.now_us < M.wip_until;
    if (M.dpd && op != 0xABu) {
        qspi_ready(); /* the chip sleeps: nothing happens, the data lines float high */
        m_set_reg(TB_NRF_QSPI + TB_QSPI_CINSTRDAT0, 0xFFFFFFFFu);
        return;
    }
    if (conf & (1u << 15)) {
        M.wel = 1; /* WREN first */
    }
    uint32_t d0 = m_reg(TB_NRF_QSPI + TB_QSPI_CINSTRDAT0);
    switch (op) {
    case 0xAB: M.dpd = 0; break;
    case 0x9F: m_set_reg(TB_NRF_QSPI + TB_QSPI_CINSTRDAT0, M.chip_id); break;
    case 0x05:
        m_set_reg(TB_NRF_QSPI + TB_QSPI_CINSTRDAT0, (uint32_t)M.sr | (wip ? 1u : 0u) | (M.wel ? 2u : 0u));
        break;
    case 0x06: if (!wip) { M.wel = 1; } break;
    case 0x04: if (!wip) { M.wel = 0; } break;
    case 0x01:
        if (wip) {
            M.busy_violation++;
        } else if (M.wel) {
            if (!M.sr_locked) {
                M.sr = (uint8_t)(d0 & 0xFCu);
            }
            M.wel = 0;
            M.wip_until = M.now_us + 5000; /* a status-register write */
        }
        break;
    default: M.qspi_bad++; break;
    }
    qspi_ready();
}

static void qspi_task(uint32_t off)
{
    const uint32_t Q = TB_NRF_QSPI;
    int direct = 0;
    if (off == TB_QSPI_TASKS_ACTIVATE) {
        if (m_reg(Q + TB_QSPI_ENABLE) == 1u) {
            M.qspi_active = 1;
            if (all_psel_disconnected()) {
                M.e43_armed = 1;
            }
            qspi_ready();
        }
        return;
    }
    if (off == TB_QSPI_TASKS_DEACTIVATE) {
        M.qspi_active = 0;
        M.e43_armed = 0;
        return; /* the only task without READY (regs §3.2) */
    }
    qspi_clock_rule();
    if (!M.qspi_active || M.dpd) {
        return; /* no READY: the driver must time out */
    }
    if (M.now_us < M.wip_until) {
        M.busy_violation++; /* the chip is still writing or erasing */
    }
    if (off == TB_QSPI_TASKS_READSTART) {
        uint32_t src = m_reg(Q + TB_QSPI_READ_SRC), cnt = m_reg(Q + TB_QSPI_READ_CNT);
        uint8_t *dst = ram_resolve(m_reg(Q + TB_QSPI_READ_DST), cnt, &direct);
        if (dst == NULL || (src | cnt | m_reg(Q + TB_QSPI_READ_DST)) & 3u || src + cnt > 0x800000u) {
            M.qspi_bad++;
        } else {
            memcpy(dst, M.ext + src, cnt);
            M.dma_direct += (unsigned)direct;
        }
    } else if (off == TB_QSPI_TASKS_WRITESTART) {
        uint32_t dst = m_reg(Q + TB_QSPI_WRITE_DST), cnt = m_reg(Q + TB_QSPI_WRITE_CNT);
        const uint8_t *src = ram_resolve(m_reg(Q + TB_QSPI_WRITE_SRC), cnt, &direct);
        if (src == NULL || (dst | cnt | m_reg(Q + TB_QSPI_WRITE_SRC)) & 3u || dst + cnt > 0x800000u) {
            M.qspi_bad++;
        } else if (M.wel && !M.protected_) { /* without WEL the chip ignores a page program */
            if (dst % 256u + cnt > 256u) {
                M.page_cross++;
            }
            for (uint32_t i = 0; i < cnt; i++) {
                M.ext[dst + i] &= src[i];
            }
            M.wel = 0;
            M.wip_until = M.now_us + 1000;
        }
    } else if (off == TB_QSPI_TASKS_ERASESTART) {
        uint32_t ptr = m_reg(Q + TB_QSPI_ERASE_PTR), len = m_reg(Q + TB_QSPI_ERASE_LEN);
        if (len != 0 || ptr % 4096u != 0 || ptr >= 0x800000u) {
            M.qspi_bad++;
        } else if (M.wel && !M.protected_) {
            memset(M.ext + ptr, 0xFF, 4096u);
            M.wel = 0;
            M.wip_until = M.now_us + 45000;
        }
    }
    qspi_ready();
}

#endif

/* ---- UARTE0 (regs §5) ------------------------------------------------------------ */

static void uarte_task(uint32_t off)
{
    const uint32_t U = TB_NRF_UARTE0;
    if (off == TB_UARTE_TASKS_STARTTX) {
        uint32_t n = m_reg(U + TB_UARTE_TXD_MAXCNT);
        int direct;
        const uint8_t *src = ram_resolve(m_reg(U + TB_UARTE_TXD_PTR), n, &direct);
        if (m_reg(U + TB_UARTE_ENABLE) != 8u || m_reg(U + TB_UARTE_BAUDRATE) != 0x01D60000u ||
            m_reg(U + TB_UARTE_CONFIG) != 0 || src == NULL || n > 0xFFFFu) {
            M.tx_bad++;
            return;
        }
        if (M.uart_stuck) {
            return;
        }
        for (uint32_t i = 0; i < n && M.ntx < sizeof M.tx; i++) {
            M.tx[M.ntx++] = (char)src[i];
        }
        M.now_us += n * 87u; /* 10 bits at 115200 */
        m_set_reg(U + TB_UARTE_EVENTS_ENDTX, 1u);
    } else if (off == TB_UARTE_TASKS_STOPTX) {
        m_set_reg(U + TB_UARTE_TXENABLE, 0u);
        m_set_reg(U + TB_UARTE_EVENTS_TXSTOPPED, 1u);
    } else if (off == TB_UARTE_TASKS_STOPRX) {
        m_set_reg(U + TB_UARTE_RXENABLE, 0u);
    }
}

/* ---- the two hooks -------------------------------------------------------------------- */

uint32_t tb_nrf_rd(uint32_t addr)
{
    if (in_flash(addr)) {
        uint32_t w;
        memcpy(&w, M.flash + (addr - TB_NRF_FLASH_BASE), 4);
        return w;
    }
    if (addr == TB_NRF_FICR + TB_FICR_FAMILY) {
        return M.family;
    }
    if (addr == TB_NRF_FICR + TB_FICR_REVCODE) {
        return M.rev;
    }
    if (addr == TB_NRF_NVMC + TB_NVMC_READY) {
        return !M.nvmc_stuck && M.now_us >= M.nvmc_busy_until;
    }
    if (addr == TB_NRF_NVMC + TB_NVMC_READYNEXT) {
        return !M.nvmc_stuck && M.now_us >= M.nvmc_next_at;
    }
    if (addr == TB_NRF_CLOCK + TB_CLK_EVENTS_HFCLKSTARTED || addr == TB_NRF_CLOCK + TB_CLK_HFCLKSTAT) {
        int up = M.hfclk_started && !M.hfxo_missing && M.now_us >= M.hfxo_ready_at;
        if (addr == TB_NRF_CLOCK + TB_CLK_HFCLKSTAT) {
            return up ? (0x00010000u | (m_reg(TB_NRF_CLOCK + TB_CLK_HFCLKSRC) & 1u)) : 0u;
        }
        return up ? 1u : 0u;
    }
#ifndef TB_NRF_NETCORE
    if (addr >= TB_NRF_QSPI + 0x600u && addr < TB_NRF_QSPI + 0x1000u && !M.e43_armed &&
        addr != TB_NRF_QSPI + TB_QSPI_CINSTRDAT0 && addr != TB_NRF_QSPI + TB_QSPI_CINSTRDAT1) {
        M.e43_violation++;
    }
#endif
    return m_reg(addr);
}

void tb_nrf_wr(uint32_t addr, uint32_t val)
{
    if (in_flash(addr)) {
        flash_store(addr, val);
        return;
    }
#ifdef TB_NRF_NETCORE
    if (addr == TB_NRF_NVMC + 0x584u || addr == TB_NRF_NVMC + 0x588u) {
        M.nvmc_app_only++; /* CONFIGNS / WRITEUICRNS exist on the app core only (regs §2.1) */
    }
#endif
    m_set_reg(addr, val);
    if (addr == TB_NRF_CLOCK + TB_CLK_TASKS_HFCLKSTART && val == 1u) {
        M.hfclk_started = 1;
        M.hfxo_ready_at = M.now_us + 400;
        return;
    }
    if (addr == TB_NRF_CLOCK + TB_CLK_TASKS_HFCLKSTOP && val == 1u) {
        M.hfclk_started = 0;
        return;
    }
#ifndef TB_NRF_NETCORE
    if (addr == TB_NRF_RESET + TB_RESET_FORCEOFF || addr == TB_NRF_RESET + TB_RESET_ERRATUM161) {
        if (M.nrlog < M_LOG_MAX) {
            M.rlog[M.nrlog++] = (struct m_event){M.now_us, addr - TB_NRF_RESET, val};
        }
        return;
    }
    if (addr >= TB_NRF_QSPI && addr < TB_NRF_QSPI + 0x1000u) {
        uint32_t off = addr - TB_NRF_QSPI;
        if (off >= 0x600u && !M.e43_armed) {
            M.e43_violation++;
        }
        if (off <= TB_QSPI_TASKS_DEACTIVATE && val == 1u) {
            qspi_task(off);
        } else if (off == TB_QSPI_CINSTRCONF) {
            chip_cinstr(val);
        } else if (off == TB_QSPI_ENABLE && val == 0u) {
            M.qspi_active = 0;
            M.e43_armed = 0;
        }
        return;
    }
#endif
    if (addr >= TB_NRF_UARTE0 && addr < TB_NRF_UARTE0 + 0x1000u && addr - TB_NRF_UARTE0 <= 0x02Cu && val == 1u) {
        uarte_task(addr - TB_NRF_UARTE0);
    }
}
