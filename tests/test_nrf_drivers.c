/* The nRF5340 drivers (port/nrf5340/drivers/) against the register model
 * of nrf_model.c. Built twice: the app-core flavour, and with
 * -DTB_NRF_NETCORE the net-core flavour (its NVMC, its console, and the
 * app-only calls refusing). Each test checks what the driver achieved and
 * that the model counted no broken hardware rule on the way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nrf5340_port.h"
#include "nrf_io.h"
#include "nrf_model.h"
#include "nrf_regs.h"
#include "twinboot/error.h"

static int setup(void **state)
{
    (void)state;
    m_reset(5);
    return 0;
}

/* ---- addresses -------------------------------------------------------------- */

/* The drivers and the model share nrf_regs.h, so a wrong address there would
 * fool both: check every register the drivers use against the absolute
 * addresses the reference facts list (their tables, transcribed here). */
static void test_register_addresses(void **state)
{
    (void)state;
    static const struct {
        uint32_t got, want;
    } t[] = {
#ifdef TB_NRF_NETCORE
        {TB_NRF_FLASH_BASE, 0x01000000u},                    /* regs §1.1 */
        {TB_NRF_FLASH_SIZE, 0x40000u},
        {TB_NRF_FLASH_PAGE, 0x800u},
        {TB_NRF_NVMC + TB_NVMC_READY, 0x41080400u},          /* regs §2.1 */
        {TB_NRF_NVMC + TB_NVMC_READYNEXT, 0x41080408u},
        {TB_NRF_NVMC + TB_NVMC_CONFIG, 0x41080504u},
        {TB_NRF_FICR + TB_FICR_FAMILY, 0x01FF0130u},         /* regs §1.3 */
        {TB_NRF_FICR + TB_FICR_REVCODE, 0x01FF0134u},
        {TB_NRF_CLOCK, 0x41005000u},                         /* regs §1.2 */
        {TB_NRF_UARTE0, 0x41013000u},
        {TB_NRF_GPIO_P1 + TB_GPIO_PIN_CNF(0), 0x418C0A00u},  /* regs §4.3 */
#else
        {TB_NRF_FLASH_BASE, 0x0u},
        {TB_NRF_FLASH_SIZE, 0x100000u},
        {TB_NRF_FLASH_PAGE, 0x1000u},
        {TB_NRF_NVMC + TB_NVMC_READY, 0x50039400u},
        {TB_NRF_NVMC + TB_NVMC_READYNEXT, 0x50039408u},
        {TB_NRF_NVMC + TB_NVMC_CONFIG, 0x50039504u},
        {TB_NRF_NVMC + TB_NVMC_CONFIGNS, 0x50039584u},
        {TB_NRF_FICR + TB_FICR_FAMILY, 0x00FF0130u},
        {TB_NRF_FICR + TB_FICR_REVCODE, 0x00FF0134u},
        {TB_NRF_CLOCK, 0x50005000u},
        {TB_NRF_CLOCK + TB_CLK_HFCLKCTRL, 0x50005558u},      /* regs §3.3 */
        {TB_NRF_CLOCK + TB_CLK_HFCLK192MCTRL, 0x500055B8u},
        {TB_NRF_UARTE0, 0x50008000u},                        /* regs §5.2 */
        {TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(0), 0x50842700u},  /* regs §3.5, §4.3 */
        {TB_NRF_GPIO_P1 + TB_GPIO_PIN_CNF(0), 0x50842A00u},  /* regs §5.1 */
        {TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(10), 0x50842728u},
        {TB_NRF_RESET + TB_RESET_FORCEOFF, 0x50005614u},     /* regs §4.1 */
        {TB_NRF_RESET + TB_RESET_ERRATUM161, 0x50005618u},
        {TB_NRF_SPU + TB_SPU_EXTDOMAIN0, 0x50003440u},       /* regs §4.2 */
        {TB_NRF_SPU + TB_SPU_RAMREGION(0), 0x50003700u},
        {TB_NRF_SPU + TB_SPU_RAMREGION(63), 0x500037FCu},
        {TB_NRF_QSPI, 0x5002B000u},                          /* regs §3.2 offsets */
        {TB_QSPI_TASKS_DEACTIVATE, 0x010u},
        {TB_QSPI_EVENTS_READY, 0x100u},
        {TB_QSPI_INTENCLR, 0x308u},
        {TB_QSPI_ENABLE, 0x500u},
        {TB_QSPI_READ_SRC, 0x504u},
        {TB_QSPI_WRITE_DST, 0x510u},
        {TB_QSPI_ERASE_PTR, 0x51Cu},
        {TB_QSPI_ERASE_LEN, 0x520u},
        {TB_QSPI_PSEL_SCK, 0x524u},
        {TB_QSPI_PSEL_CSN, 0x528u},
        {TB_QSPI_PSEL_IO0, 0x530u},
        {TB_QSPI_PSEL_IO3, 0x53Cu},
        {TB_QSPI_XIPOFFSET, 0x540u},
        {TB_QSPI_IFCONFIG0, 0x544u},
        {TB_QSPI_IFCONFIG1, 0x600u},
        {TB_QSPI_CINSTRCONF, 0x634u},
        {TB_QSPI_CINSTRDAT0, 0x638u},
        {TB_QSPI_IFTIMING, 0x640u},
#endif
        {TB_NVMC_REN, 0u}, {TB_NVMC_WEN, 1u}, {TB_NVMC_EEN, 2u},
        {TB_CLK_TASKS_HFCLKSTART, 0x000u},                   /* regs §6.1 */
        {TB_CLK_TASKS_HFCLKSTOP, 0x004u},
        {TB_CLK_EVENTS_HFCLKSTARTED, 0x100u},
        {TB_CLK_HFCLKSTAT, 0x40Cu},
        {TB_CLK_HFCLKSRC, 0x514u},
        {TB_UARTE_TASKS_STOPRX, 0x004u},                     /* regs §5.2 */
        {TB_UARTE_TASKS_STARTTX, 0x008u},
        {TB_UARTE_TASKS_STOPTX, 0x00Cu},
        {TB_UARTE_EVENTS_ENDTX, 0x120u},
        {TB_UARTE_EVENTS_TXSTOPPED, 0x158u},
        {TB_UARTE_ERRORSRC, 0x480u},
        {TB_UARTE_ENABLE, 0x500u},
        {TB_UARTE_PSEL_RTS, 0x508u},
        {TB_UARTE_PSEL_TXD, 0x50Cu},
        {TB_UARTE_PSEL_CTS, 0x510u},
        {TB_UARTE_PSEL_RXD, 0x514u},
        {TB_UARTE_BAUDRATE, 0x524u},
        {TB_UARTE_TXD_PTR, 0x544u},
        {TB_UARTE_TXD_MAXCNT, 0x548u},
        {TB_UARTE_RXENABLE, 0x564u},
        {TB_UARTE_TXENABLE, 0x568u},
        {TB_UARTE_CONFIG, 0x56Cu},
        {TB_UARTE_BAUD_115200, 0x01D60000u},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (t[i].got != t[i].want) {
            fail_msg("entry %zu: 0x%08x, the facts say 0x%08x", i, (unsigned)t[i].got, (unsigned)t[i].want);
        }
    }
}

/* ---- NVMC ------------------------------------------------------------------ */

static void nvmc_clean(void)
{
    assert_int_equal(M.nvmc_bad_store, 0);
    assert_int_equal(M.nvmc_early_store, 0);
    assert_int_equal(M.nvmc_app_only, 0);
    /* back to read-only after every operation */
    assert_int_equal(m_reg(TB_NRF_NVMC + TB_NVMC_CONFIG), TB_NVMC_REN);
}

static void test_nvmc_geometry(void **state)
{
    (void)state;
    struct tb_flash f;
    m_set_reg(TB_NRF_NVMC + TB_NVMC_CONFIG, TB_NVMC_EEN); /* left so by an earlier image */
    assert_int_equal(tb_nrf_nvmc_init(&f), TB_OK);
#ifdef TB_NRF_NETCORE
    assert_string_equal(f.name, "net");
    assert_int_equal(f.size, 256u * 1024u);
    assert_int_equal(f.sector_size, 2048u);
#else
    assert_string_equal(f.name, "app");
    assert_int_equal(f.size, 1024u * 1024u);
    assert_int_equal(f.sector_size, 4096u);
    assert_int_equal(m_reg(TB_NRF_NVMC + TB_NVMC_CONFIGNS), TB_NVMC_REN);
#endif
    assert_int_equal(f.write_size, 4u);
    assert_int_equal(f.erased_val, 0xFF);
    nvmc_clean();
    assert_int_equal(tb_nrf_nvmc_init(NULL), TB_E_INVAL);
}

static void test_nvmc_program_read(void **state)
{
    (void)state;
    struct tb_flash f;
    assert_int_equal(tb_nrf_nvmc_init(&f), TB_OK);
    uint8_t data[64 + 1];
    for (unsigned i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)(i * 7 + 3);
    }
    const uint32_t off = f.sector_size * 3 + 8;
    /* an unaligned source buffer is fine: the driver moves words itself */
    assert_int_equal(f.program(&f, off, data + 1, 64), TB_OK);
    assert_int_equal(M.words_programmed, 16);
    assert_memory_equal(M.flash + off, data + 1, 64);
    nvmc_clean();

    /* reads at any offset and length */
    uint8_t back[70];
    memset(back, 0, sizeof back);
    assert_int_equal(f.read(&f, off + 1, back, 61), TB_OK);
    assert_memory_equal(back, data + 2, 61);
    assert_int_equal(f.read(&f, off - 3, back, 3), TB_OK);
    assert_memory_equal(back, "\xff\xff\xff", 3);
    assert_int_equal(f.read(&f, f.size - 1, back, 1), TB_OK);
    assert_int_equal(back[0], 0xFF);
}

static void test_nvmc_bad_args(void **state)
{
    (void)state;
    struct tb_flash f;
    uint8_t buf[16] = {0};
    assert_int_equal(tb_nrf_nvmc_init(&f), TB_OK);
    assert_int_equal(f.program(&f, 2, buf, 4), TB_E_ALIGN);
    assert_int_equal(f.program(&f, 4, buf, 6), TB_E_ALIGN);
    assert_int_equal(f.program(&f, f.size - 4, buf, 8), TB_E_RANGE);
    assert_int_equal(f.program(&f, 0xFFFFFFFCu, buf, 8), TB_E_RANGE); /* no wrap-around */
    assert_int_equal(f.read(&f, f.size, buf, 1), TB_E_RANGE);
    assert_int_equal(f.read(&f, 0xFFFFFFFFu, buf, 2), TB_E_RANGE);
    assert_int_equal(f.erase(&f, 4), TB_E_ALIGN);
    assert_int_equal(f.erase(&f, f.size), TB_E_RANGE);
    assert_int_equal(f.program(&f, 0, NULL, 4), TB_E_INVAL);
    assert_int_equal(f.read(&f, 0, NULL, 4), TB_E_INVAL);
    assert_int_equal(M.words_programmed, 0);
    assert_int_equal(M.pages_erased, 0);
    nvmc_clean();
}

static void test_nvmc_erase(void **state)
{
    (void)state;
    struct tb_flash f;
    assert_int_equal(tb_nrf_nvmc_init(&f), TB_OK);
    memset(M.flash, 0x00, 3 * f.sector_size); /* three programmed pages */
    uint64_t t0 = M.now_us;
    assert_int_equal(f.erase(&f, f.sector_size), TB_OK);
    assert_int_equal(M.pages_erased, 1);
    assert_true(M.now_us - t0 >= 87000); /* it waited for READY */
    for (uint32_t i = 0; i < f.sector_size; i++) {
        assert_int_equal(M.flash[f.sector_size + i], 0xFF);
    }
    assert_int_equal(M.flash[f.sector_size - 1], 0x00); /* neighbours untouched */
    assert_int_equal(M.flash[2 * f.sector_size], 0x00);
    nvmc_clean();
    /* a program right after the erase waits for it */
    assert_int_equal(f.erase(&f, 0), TB_OK);
    uint32_t w = 0x12345678u;
    assert_int_equal(f.program(&f, 0, &w, 4), TB_OK);
    nvmc_clean();
}

static void test_nvmc_timeout_and_verify(void **state)
{
    (void)state;
    struct tb_flash f;
    assert_int_equal(tb_nrf_nvmc_init(&f), TB_OK);
    uint32_t w[2] = {0x0, 0xA5A5A5A4u};
    /* READY never comes back: bounded, TB_E_IO, NVMC left read-only */
    M.nvmc_stuck = 1;
    uint64_t t0 = M.now_us;
    assert_int_equal(f.program(&f, 0, w, 8), TB_E_IO);
    assert_true(M.now_us - t0 < 1000000);
    assert_int_equal(f.erase(&f, 0), TB_E_IO);
    assert_int_equal(m_reg(TB_NRF_NVMC + TB_NVMC_CONFIG), TB_NVMC_REN);
    M.nvmc_stuck = 0;
    /* bits that do not program are found by the read-back */
    M.nvmc_weak_bit = 1;
    assert_int_equal(f.program(&f, 16, w, 8), TB_E_IO);
    M.nvmc_weak_bit = 0;
    nvmc_clean();
}

/* ---- clock ----------------------------------------------------------------------- */

static void test_clock(void **state)
{
    (void)state;
    assert_int_equal(tb_nrf_clock_init(), TB_OK);
    assert_int_equal(m_reg(TB_NRF_CLOCK + TB_CLK_HFCLKSRC), 1u); /* HFXO */
    assert_int_equal(tb_nrf_rd(TB_NRF_CLOCK + TB_CLK_HFCLKSTAT), 0x00010001u);
#ifndef TB_NRF_NETCORE
    assert_int_equal(m_reg(TB_NRF_CLOCK + TB_CLK_HFCLKCTRL), 1u); /* 64 MHz */
#endif
    assert_int_equal(tb_nrf_clock_deinit(), TB_OK);
    assert_int_equal(m_reg(TB_NRF_CLOCK + TB_CLK_INTENCLR), 0xFFFFFFFFu);
    assert_int_equal(M.hfclk_started, 0);

    m_reset(5);
    M.hfxo_missing = 1;
    uint64_t t0 = M.now_us;
    assert_int_equal(tb_nrf_clock_init(), TB_E_IO);
    assert_true(M.now_us - t0 < 100000);
}

/* ---- console ------------------------------------------------------------------------ */

#ifdef TB_NRF_NETCORE
#define TX_PSEL 0x21u
#define RX_PSEL 0x20u
#define CON_PORT TB_NRF_GPIO_P1
#define TX_PIN 1u
#else
#define TX_PSEL 0x14u
#define RX_PSEL 0x16u
#define CON_PORT TB_NRF_GPIO_P0
#define TX_PIN 20u
#endif

static void test_console(void **state)
{
    (void)state;
    /* nothing goes out before init, and nothing breaks */
    tb_nrf_console_write("early\n", 6);
    assert_int_equal(M.ntx, 0);
    assert_int_equal(tb_nrf_console_init(), TB_OK);
    assert_int_equal(m_reg(TB_NRF_UARTE0 + TB_UARTE_PSEL_TXD), TX_PSEL);
    assert_int_equal(m_reg(TB_NRF_UARTE0 + TB_UARTE_PSEL_RXD), RX_PSEL);
    assert_int_equal(m_reg(TB_NRF_UARTE0 + TB_UARTE_PSEL_RTS), 0xFFFFFFFFu);
    assert_int_equal(m_reg(CON_PORT + TB_GPIO_PIN_CNF(TX_PIN)), 0x3u);
    assert_int_equal(m_reg(CON_PORT + TB_GPIO_OUTSET) & (1u << TX_PIN), 1u << TX_PIN);

    static const char line[] = "twinboot: app v1.2.0 validated\n";
    tb_nrf_console_write(line, sizeof line - 1);
    assert_int_equal(M.tx_bad, 0);
    assert_int_equal(M.ntx, sizeof line); /* LF became CR LF */
    assert_memory_equal(M.tx, "twinboot: app v1.2.0 validated\r\n", sizeof line);

    /* longer than one DMA chunk, newlines at chunk edges */
    char big[300];
    char want[400];
    size_t nw = 0;
    for (unsigned i = 0; i < sizeof big; i++) {
        big[i] = (i % 31 == 30) ? '\n' : (char)('a' + i % 26);
        if (big[i] == '\n') {
            want[nw++] = '\r';
        }
        want[nw++] = big[i];
    }
    M.ntx = 0;
    tb_nrf_console_write(big, sizeof big);
    assert_int_equal(M.tx_bad, 0);
    assert_int_equal(M.ntx, nw);
    assert_memory_equal(M.tx, want, nw);

    assert_int_equal(tb_nrf_console_deinit(), TB_OK);
    assert_int_equal(m_reg(TB_NRF_UARTE0 + TB_UARTE_ENABLE), 0u);
    assert_int_equal(m_reg(TB_NRF_UARTE0 + TB_UARTE_PSEL_TXD), 0xFFFFFFFFu);
    assert_int_equal(m_reg(CON_PORT + TB_GPIO_PIN_CNF(TX_PIN)), TB_GPIO_PIN_CNF_RESET);
    M.ntx = 0;
    tb_nrf_console_write("after\n", 6);
    assert_int_equal(M.ntx, 0);
}

static void test_console_erratum44_and_stuck(void **state)
{
    (void)state;
    /* an earlier image left RX running (erratum 44) */
    m_set_reg(TB_NRF_UARTE0 + TB_UARTE_RXENABLE, 1u);
    m_set_reg(TB_NRF_UARTE0 + TB_UARTE_TXENABLE, 1u);
    assert_int_equal(tb_nrf_console_init(), TB_OK);
    assert_int_equal(m_reg(TB_NRF_UARTE0 + TB_UARTE_RXENABLE), 0u);
    assert_int_equal(m_reg(TB_NRF_UARTE0 + TB_UARTE_TXENABLE), 0u);
    assert_int_equal(m_reg(TB_NRF_UARTE0 + TB_UARTE_ENABLE), 8u);
    /* ENDTX never comes: the write gives up in bounded time, then stays quiet */
    M.uart_stuck = 1;
    uint64_t t0 = M.now_us;
    tb_nrf_console_write("x\n", 2);
    tb_nrf_console_write("y\n", 2);
    assert_true(M.now_us - t0 < 100000);
    assert_int_equal(M.ntx, 0);
}

/* ---- app core only -------------------------------------------------------------------- */

#ifndef TB_NRF_NETCORE

static void test_netctl_erratum161(void **state)
{
    (void)state;
    struct tb_netctl nc;
    assert_int_equal(tb_nrf_netctl_init(&nc), TB_OK);
    assert_int_equal(nc.release(nc.ctx), TB_OK);
    /* regs §4.1: 0x618 = 1; FORCEOFF 0, >= 5 us, 1, >= 1 us, 0; 0x618 = 0 */
    assert_int_equal(M.nrlog, 5);
    const uint32_t offs[5] = {0x618, 0x614, 0x614, 0x614, 0x618};
    const uint32_t vals[5] = {1, 0, 1, 0, 0};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(M.rlog[i].off, offs[i]);
        assert_int_equal(M.rlog[i].val, vals[i]);
    }
    assert_true(M.rlog[2].t - M.rlog[1].t >= 5);
    assert_true(M.rlog[3].t - M.rlog[2].t >= 1);
    assert_int_equal(m_reg(TB_NRF_RESET + TB_RESET_FORCEOFF), 0u); /* running */
    assert_int_equal(nc.hold(nc.ctx), TB_OK);
    assert_int_equal(m_reg(TB_NRF_RESET + TB_RESET_FORCEOFF), 1u);
    assert_int_equal(M.nrlog, 6);
    uint64_t t0 = M.now_us;
    assert_int_equal(nc.wait(nc.ctx, 1000), TB_OK);
    assert_true(M.now_us - t0 >= 1000);
    assert_int_equal(tb_nrf_netctl_init(NULL), TB_E_INVAL);

    /* an unknown part (FICR+0x130 != 7) takes the newest-silicon branch */
    m_reset(5);
    M.family = 0xFFFFFFFFu;
    assert_int_equal(tb_nrf_netctl_init(&nc), TB_OK);
    assert_int_equal(nc.release(nc.ctx), TB_OK);
    assert_int_equal(M.nrlog, 5);
}

static void test_netctl_old_silicon(void **state)
{
    (void)state;
    m_reset(3); /* before erratum 161's revision: a plain release */
    struct tb_netctl nc;
    assert_int_equal(tb_nrf_netctl_init(&nc), TB_OK);
    assert_int_equal(nc.release(nc.ctx), TB_OK);
    assert_int_equal(M.nrlog, 1);
    assert_int_equal(M.rlog[0].off, 0x614);
    assert_int_equal(M.rlog[0].val, 0);
}

static void test_spu(void **state)
{
    (void)state;
    /* a window over the first two 8 KiB regions (one byte into the second) */
    assert_int_equal(tb_nrf_spu_share_ram(0x20000000u, 0x2001u), TB_OK);
    assert_int_equal(m_reg(TB_NRF_SPU + TB_SPU_EXTDOMAIN0), TB_SPU_PERM_SECATTR);
    m_set_reg(TB_NRF_SPU + TB_SPU_RAMREGION(5), 0x11u); /* secure, execute only */
    assert_int_equal(tb_nrf_spu_share_ram(0x2000A000u, 0x100u), TB_OK);
    assert_int_equal(m_reg(TB_NRF_SPU + TB_SPU_RAMREGION(5)), 0x17u);
    for (unsigned n = 0; n < 64; n++) {
        assert_int_equal(m_reg(TB_NRF_SPU + TB_SPU_RAMREGION(n)) & TB_SPU_PERM_LOCK, 0); /* never locked */
    }
    /* outside app RAM, empty, running off its end */
    assert_int_equal(tb_nrf_spu_share_ram(0x21000000u, 0x100u), TB_E_RANGE);
    assert_int_equal(tb_nrf_spu_share_ram(0x20000000u, 0u), TB_E_RANGE);
    assert_int_equal(tb_nrf_spu_share_ram(0x2007F000u, 0x2000u), TB_E_RANGE);
    assert_int_equal(tb_nrf_spu_share_ram(0xFFFFF000u, 0x2000u), TB_E_RANGE);
    /* a region locked without read/write cannot be shared */
    m_set_reg(TB_NRF_SPU + TB_SPU_RAMREGION(9), 0x110u);
    assert_int_equal(tb_nrf_spu_share_ram(0x20012000u, 0x10u), TB_E_IO);
    /* back to non-secure net accesses */
    assert_int_equal(tb_nrf_spu_unshare(), TB_OK);
    assert_int_equal(m_reg(TB_NRF_SPU + TB_SPU_EXTDOMAIN0), 0u);
    /* EXTDOMAIN locked non-secure by an earlier image */
    m_set_reg(TB_NRF_SPU + TB_SPU_EXTDOMAIN0, 0x100u);
    assert_int_equal(tb_nrf_spu_share_ram(0x20000000u, 0x100u), TB_E_IO);
}

static void test_console_forward_net(void **state)
{
    (void)state;
    assert_int_equal(tb_nrf_console_forward_net(1), TB_OK);
    assert_int_equal(m_reg(TB_NRF_GPIO_P1 + TB_GPIO_PIN_CNF(0)) >> 28, 1u);
    assert_int_equal(m_reg(TB_NRF_GPIO_P1 + TB_GPIO_PIN_CNF(1)) >> 28, 1u);
    assert_int_equal(tb_nrf_console_forward_net(0), TB_OK);
    assert_int_equal(m_reg(TB_NRF_GPIO_P1 + TB_GPIO_PIN_CNF(1)), TB_GPIO_PIN_CNF_RESET);
}

/* ---- QSPI --------------------------------------------------------------------- */

static void qspi_clean(void)
{
    assert_int_equal(M.e43_violation, 0);
    assert_int_equal(M.e159_violation, 0);
    assert_int_equal(M.qspi_bad, 0);
    assert_int_equal(M.busy_violation, 0);
    assert_int_equal(M.page_cross, 0);
}

static void test_qspi_bringup(void **state)
{
    (void)state;
    struct tb_flash f;
    M.sr = 0x00; /* QE clear, as a fresh chip */
    assert_int_equal(tb_nrf_qspi_init(&f), TB_OK);
    assert_string_equal(f.name, "qspi");
    assert_int_equal(f.size, 8u * 1024u * 1024u);
    assert_int_equal(f.sector_size, 4096u);
    assert_int_equal(f.write_size, 4u);
    /* release DPD, RDID, RDSR, WRSR(QE), RDSR until WIP = 0 */
    assert_true(M.nci >= 5);
    assert_int_equal(M.ci_log[0], 0xAB);
    assert_int_equal(M.ci_log[1], 0x9F);
    assert_int_equal(M.ci_log[2], 0x05);
    assert_int_equal(M.ci_log[3], 0x01);
    for (int i = 4; i < M.nci; i++) {
        assert_int_equal(M.ci_log[i], 0x05);
    }
    assert_int_equal(M.sr & 0x40, 0x40);
    /* the DK's dedicated pins (regs §3.1) */
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_PSEL_SCK), 17u);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_PSEL_CSN), 18u);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_PSEL_IO0), 13u);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_PSEL_IO3), 16u);
    /* READ4IO, PP4IO, 24-bit, 256 B pages, erratum 121 bit 16; 8 MHz */
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_IFCONFIG0), 0x0001001Cu);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_IFTIMING), 0x600u);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_IFCONFIG1), 0xB0040480u);
    assert_int_equal(m_reg(TB_NRF_CLOCK + TB_CLK_HFCLK192MCTRL), 0u);
    assert_int_equal(m_reg(TB_NRF_GPIO_P0 + TB_GPIO_PIN_CNF(18)), 0x303u);
    qspi_clean();

    assert_int_equal(tb_nrf_qspi_deinit(), TB_OK);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_ENABLE), 0u);
    assert_int_equal(m_reg(TB_NRF_CLOCK + TB_CLK_HFCLK192MCTRL), 2u);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_PSEL_CSN), 0xFFFFFFFFu);
    assert_int_equal(M.qspi_active, 0);
    /* after deinit the flash refuses work rather than hanging */
    uint8_t b[4];
    assert_int_equal(f.read(&f, 0, b, 4), TB_E_IO);
}

static void test_qspi_bringup_variants(void **state)
{
    (void)state;
    struct tb_flash f;
    /* QE already set: no status write; chip left in deep power-down */
    M.sr = 0x40;
    M.dpd = 1;
    assert_int_equal(tb_nrf_qspi_init(&f), TB_OK);
    for (int i = 0; i < M.nci; i++) {
        assert_int_not_equal(M.ci_log[i], 0x01);
    }
    qspi_clean();

    /* rev code 2: no erratum 121 bits */
    m_reset(2);
    M.sr = 0x40;
    assert_int_equal(tb_nrf_qspi_init(&f), TB_OK);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_IFCONFIG0), 0x0000001Cu);
    qspi_clean();

    /* another chip: refused, everything released */
    m_reset(5);
    M.chip_id = 0x001740EFu;
    assert_int_equal(tb_nrf_qspi_init(&f), TB_E_IO);
    assert_int_equal(m_reg(TB_NRF_QSPI + TB_QSPI_ENABLE), 0u);
    assert_int_equal(m_reg(TB_NRF_CLOCK + TB_CLK_HFCLK192MCTRL), 2u);

    /* a status register that will not take QE */
    m_reset(5);
    M.sr_locked = 1;
    assert_int_equal(tb_nrf_qspi_init(&f), TB_E_IO);
    assert_int_equal(tb_nrf_qspi_init(NULL), TB_E_INVAL);
}

static void test_qspi_rw(void **state)
{
    (void)state;
    struct tb_flash f;
    assert_int_equal(tb_nrf_qspi_init(&f), TB_OK);
    memset(M.ext + 0x10000, 0x00, 0x2000); /* old contents */
    assert_int_equal(f.erase(&f, 0x10000), TB_OK);
    for (int i = 0; i < 0x1000; i++) {
        assert_int_equal(M.ext[0x10000 + i], 0xFF);
    }
    assert_int_equal(M.ext[0x11000], 0x00);
    qspi_clean();

    /* 1000 bytes from a source "in flash" and unaligned, across page edges */
    static uint8_t src[1001];
    for (unsigned i = 0; i < sizeof src; i++) {
        src[i] = (uint8_t)(i ^ (i >> 3));
    }
    m_in_flash(src + 1);
    assert_int_equal(f.program(&f, 0x10000 + 0xF0, src + 1, 1000), TB_OK);
    assert_memory_equal(M.ext + 0x100F0, src + 1, 1000);
    qspi_clean();

    /* reads: odd offset and length into an unaligned buffer (bounce) */
    uint8_t *dst = m_arena(1);
    assert_int_equal(f.read(&f, 0x100F3, dst, 333), TB_OK);
    assert_memory_equal(dst, src + 4, 333);
    /* aligned RAM buffer, long: straight into it, in several transfers */
    memset(M.ext + 0x200000, 0x5A, 0x11000);
    uint8_t *big = m_arena(0x1000);
    unsigned d0 = M.dma_direct;
    assert_int_equal(f.read(&f, 0x200000, big, 0x11000), TB_OK);
    assert_true(M.dma_direct - d0 >= 3);
    for (unsigned i = 0; i < 0x11000; i++) {
        assert_int_equal(big[i], 0x5A);
    }
    /* the last byte of the chip */
    M.ext[0x7FFFFF] = 0x42;
    assert_int_equal(f.read(&f, 0x7FFFFF, dst, 1), TB_OK);
    assert_int_equal(dst[0], 0x42);
    qspi_clean();

    /* a program that does not take (bits cannot be set) is reported */
    uint32_t ones = 0xFFFFFFFFu, zero = 0;
    assert_int_equal(f.program(&f, 0x300000, &zero, 4), TB_OK);
    assert_int_equal(f.program(&f, 0x300000, &ones, 4), TB_E_IO);

    /* a block-protected chip ignores programs and erases: both reported */
    M.protected_ = 1;
    memset(M.ext + 0x301000, 0x00, 4096);
    assert_int_equal(f.erase(&f, 0x301000), TB_E_IO);
    assert_int_equal(f.program(&f, 0x302000, &zero, 4), TB_E_IO);
    M.protected_ = 0;

    /* bad arguments */
    assert_int_equal(f.program(&f, 2, src, 4), TB_E_ALIGN);
    assert_int_equal(f.program(&f, 0, src, 3), TB_E_ALIGN);
    assert_int_equal(f.program(&f, 0x7FFFFC, src, 8), TB_E_RANGE);
    assert_int_equal(f.read(&f, 0x7FFFFF, dst, 2), TB_E_RANGE);
    assert_int_equal(f.read(&f, 0xFFFFFFFFu, dst, 2), TB_E_RANGE);
    assert_int_equal(f.erase(&f, 0x800), TB_E_ALIGN);
    assert_int_equal(f.erase(&f, 0x800000), TB_E_RANGE);
    qspi_clean();
    assert_int_equal(tb_nrf_qspi_deinit(), TB_OK);
}

static void test_qspi_no_answer(void **state)
{
    (void)state;
    struct tb_flash f;
    assert_int_equal(tb_nrf_qspi_init(&f), TB_OK);
    /* the chip is busy forever: erase gives up in bounded time */
    M.wip_until = UINT64_MAX;
    uint64_t t0 = M.now_us;
    assert_int_equal(f.erase(&f, 0), TB_E_IO);
    assert_true(M.now_us - t0 < 5000000);
    /* the peripheral never raises READY: bounded too */
    M.wip_until = 0;
    M.dpd = 1;
    uint8_t *b = m_arena(0);
    assert_int_equal(f.read(&f, 0, b, 16), TB_E_IO);
}

#else /* TB_NRF_NETCORE */

static void test_net_app_only_calls(void **state)
{
    (void)state;
    struct tb_flash f;
    struct tb_netctl nc;
    assert_int_equal(tb_nrf_qspi_init(&f), TB_E_UNSUPPORTED);
    assert_int_equal(tb_nrf_qspi_deinit(), TB_E_UNSUPPORTED);
    assert_int_equal(tb_nrf_netctl_init(&nc), TB_E_UNSUPPORTED);
    assert_int_equal(tb_nrf_spu_share_ram(0x20000000u, 0x2000u), TB_E_UNSUPPORTED);
    assert_int_equal(tb_nrf_console_forward_net(1), TB_E_UNSUPPORTED);
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_addresses),
        cmocka_unit_test_setup(test_nvmc_geometry, setup),
        cmocka_unit_test_setup(test_nvmc_program_read, setup),
        cmocka_unit_test_setup(test_nvmc_bad_args, setup),
        cmocka_unit_test_setup(test_nvmc_erase, setup),
        cmocka_unit_test_setup(test_nvmc_timeout_and_verify, setup),
        cmocka_unit_test_setup(test_clock, setup),
        cmocka_unit_test_setup(test_console, setup),
        cmocka_unit_test_setup(test_console_erratum44_and_stuck, setup),
#ifndef TB_NRF_NETCORE
        cmocka_unit_test_setup(test_netctl_erratum161, setup),
        cmocka_unit_test_setup(test_netctl_old_silicon, setup),
        cmocka_unit_test_setup(test_spu, setup),
        cmocka_unit_test_setup(test_console_forward_net, setup),
        cmocka_unit_test_setup(test_qspi_bringup, setup),
        cmocka_unit_test_setup(test_qspi_bringup_variants, setup),
        cmocka_unit_test_setup(test_qspi_rw, setup),
        cmocka_unit_test_setup(test_qspi_no_answer, setup),
#else
        cmocka_unit_test_setup(test_net_app_only_calls, setup),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
