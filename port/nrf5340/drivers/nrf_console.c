/* The boot log on UARTE0, 115200 8N1, polled TX through EasyDMA (regs §5).
 * App core: TX P0.20, RX P0.22 (the DK's VCOM, Zephyr's uart0). Net core:
 * TX P1.01, RX P1.00, usable once the app core forwarded them (regs §4.3). */
#include <stddef.h>
#include <string.h>

#include "../nrf5340_port.h"
#include "nrf_io.h"
#include "nrf_regs.h"
#include "twinboot/error.h"

#ifdef TB_NRF_NETCORE
#define CON_GPIO TB_NRF_GPIO_P1
#define CON_TX_PIN 1u
#define CON_RX_PIN 0u
#define CON_TX_PSEL 0x21u /* P1.01: PORT bit 5 | PIN (regs §5.2) */
#define CON_RX_PSEL 0x20u /* P1.00 */
#else
#define CON_GPIO TB_NRF_GPIO_P0
#define CON_TX_PIN 20u
#define CON_RX_PIN 22u
#define CON_TX_PSEL 0x14u /* P0.20 */
#define CON_RX_PSEL 0x16u /* P0.22 */
#endif

/* 64 bytes at 115200 baud take 5.6 ms; the bound is four times that. */
#define CON_CHUNK 64u
#define CON_TX_TIMEOUT_US 25000u

static struct {
    int up;
    uint8_t buf[CON_CHUNK]; /* EasyDMA reads RAM only (regs §5.3): strings in flash are copied here */
} con;

/* Erratum 44 (regs §5.3): an earlier image may have left the UARTE running. */
static int con_erratum44(void)
{
    int rc = TB_OK;
    if (tb_nrf_rd(TB_NRF_UARTE0 + TB_UARTE_TXENABLE) == 1u) {
        tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_TASKS_STOPTX, 1u); /* TX left on: stop it */
    }
    if (tb_nrf_rd(TB_NRF_UARTE0 + TB_UARTE_RXENABLE) == 1u) {
        tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_ENABLE, TB_UARTE_ENABLE_ON); /* STOPRX needs ENABLE */
        tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_TASKS_STOPRX, 1u); /* RX left on: stop it */
        rc = tb_nrf_poll(TB_NRF_UARTE0 + TB_UARTE_RXENABLE, 1u, 0u, 40000u, 100u); /* up to 40 ms */
        tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_ERRORSRC, 0xFu); /* write 1 to clear */
        tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_ENABLE, 0u); /* then disabled, as nrfx */
    }
    return rc;
}

int tb_nrf_console_init(void)
{
    con.up = 0;
    int rc = con_erratum44();
    if (rc != TB_OK) {
        return rc;
    }
    /* regs §5.3 step 1: TX output driven high; RX input with pull-up */
    tb_nrf_wr(CON_GPIO + TB_GPIO_OUTSET, 1u << CON_TX_PIN); /* idle level high before the pin drives */
    tb_nrf_wr(CON_GPIO + TB_GPIO_PIN_CNF(CON_TX_PIN), 0x3u); /* DIR out, input disconnected */
    tb_nrf_wr(CON_GPIO + TB_GPIO_PIN_CNF(CON_RX_PIN), 0xCu); /* input, PULL = up */
    /* step 2 */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_PSEL_TXD, CON_TX_PSEL); /* regs §5.1/§5.2 PSEL values */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_PSEL_RXD, CON_RX_PSEL); /* (RX unused, connected as Zephyr) */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_PSEL_RTS, TB_PSEL_DISCONNECTED); /* no flow control */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_PSEL_CTS, TB_PSEL_DISCONNECTED); /* CONNECT bit 31 = 1 */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_CONFIG, 0u);                     /* 8N1, no HWFC */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_BAUDRATE, TB_UARTE_BAUD_115200); /* 0x01D60000 */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_INTENCLR, 0xFFFFFFFFu);          /* polled */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_ENABLE, TB_UARTE_ENABLE_ON);     /* 8 = enabled */
    con.up = 1;
    return TB_OK;
}

static int con_send(uint32_t n)
{
    /* regs §5.3 step 3 */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_TXD_PTR, tb_nrf_ram_addr(con.buf)); /* RAM only */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_TXD_MAXCNT, n); /* <= 64, MAXCNT is 16 bits */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_EVENTS_ENDTX, 0u); /* clear, then start */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_TASKS_STARTTX, 1u); /* ENDTX when the last byte is out */
    return tb_nrf_poll(TB_NRF_UARTE0 + TB_UARTE_EVENTS_ENDTX, 1u, 1u, CON_TX_TIMEOUT_US, 20u);
}

void tb_nrf_console_write(const char *s, uint32_t len)
{
    if (!con.up || s == NULL) {
        return;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < len; i++) {
        /* LF becomes CR LF, as terminals on the VCOM port expect */
        if (s[i] == '\n') {
            if (n + 2 > CON_CHUNK) {
                if (con_send(n) != TB_OK) {
                    con.up = 0; /* a stuck UARTE: stop logging rather than stall every line */
                    return;
                }
                n = 0;
            }
            con.buf[n++] = '\r';
        } else if (n + 1 > CON_CHUNK) {
            if (con_send(n) != TB_OK) {
                con.up = 0;
                return;
            }
            n = 0;
        }
        con.buf[n++] = (uint8_t)s[i];
    }
    if (n > 0 && con_send(n) != TB_OK) {
        con.up = 0;
    }
}

int tb_nrf_console_deinit(void)
{
    /* regs §5.3 step 4, as sdk-mcuboot's clean-up (regs §1.5) */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_INTENCLR, 0xFFFFFFFFu); /* INTENCLR all */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_EVENTS_TXSTOPPED, 0u); /* clear, then STOPTX */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_TASKS_STOPTX, 1u); /* TXSTOPPED follows */
    int rc = TB_OK;
    if (con.up) {
        rc = tb_nrf_poll(TB_NRF_UARTE0 + TB_UARTE_EVENTS_TXSTOPPED, 1u, 1u, CON_TX_TIMEOUT_US, 20u);
    }
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_ENABLE, 0u); /* disabled, then pins released */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_PSEL_TXD, TB_PSEL_DISCONNECTED); /* PSELs to reset 0xFFFFFFFF */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_PSEL_RXD, TB_PSEL_DISCONNECTED); /* (reset value) */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_PSEL_RTS, TB_PSEL_DISCONNECTED); /* (reset value) */
    tb_nrf_wr(TB_NRF_UARTE0 + TB_UARTE_PSEL_CTS, TB_PSEL_DISCONNECTED); /* (reset value) */
    tb_nrf_wr(CON_GPIO + TB_GPIO_PIN_CNF(CON_TX_PIN), TB_GPIO_PIN_CNF_RESET); /* regs §4.3 reset value */
    tb_nrf_wr(CON_GPIO + TB_GPIO_PIN_CNF(CON_RX_PIN), TB_GPIO_PIN_CNF_RESET); /* reset value */
    con.up = 0;
    return rc;
}
