/* nRF5340 register addresses used by the drivers, from
 * docs/nrf5340-registers.md ("regs §n" = its section n; the bracketed tags
 * there, defined in its §0.2, name the nrfx / Zephyr sources). The app core
 * uses the Secure aliases (0x5xxx_xxxx): the bootloader runs secure (regs
 * §0.1 conventions). The net core has one alias (0x41xx_xxxx). */
#ifndef TB_NRF_REGS_H
#define TB_NRF_REGS_H

/* ---- per core ------------------------------------------------------------ */
#ifdef TB_NRF_NETCORE
#define TB_NRF_FICR 0x01FF0000u           /* regs §1.1 */
#define TB_NRF_FLASH_BASE 0x01000000u     /* regs §1.1: net flash */
#define TB_NRF_FLASH_SIZE 0x00040000u     /* 256 KiB */
#define TB_NRF_FLASH_PAGE 0x00000800u     /* 2 KiB pages, regs §2.2 */
#define TB_NRF_NVMC 0x41080000u           /* regs §1.2, §2.1 */
#define TB_NRF_CLOCK 0x41005000u          /* regs §1.2 CLOCK/POWER/RESET */
#define TB_NRF_UARTE0 0x41013000u         /* regs §1.2, §5.4 */
#define TB_NRF_GPIO_P0 0x418C0500u        /* regs §1.2 */
#define TB_NRF_GPIO_P1 0x418C0800u
#else
#define TB_NRF_FICR 0x00FF0000u
#define TB_NRF_FLASH_BASE 0x00000000u
#define TB_NRF_FLASH_SIZE 0x00100000u     /* 1 MiB */
#define TB_NRF_FLASH_PAGE 0x00001000u     /* 4 KiB pages */
#define TB_NRF_NVMC 0x50039000u           /* S alias */
#define TB_NRF_CLOCK 0x50005000u          /* S alias */
#define TB_NRF_UARTE0 0x50008000u         /* S alias */
#define TB_NRF_GPIO_P0 0x50842500u        /* S alias */
#define TB_NRF_GPIO_P1 0x50842800u
#endif
#define TB_NRF_RESET TB_NRF_CLOCK         /* CLOCK, POWER, RESET share one base (regs §1.2) */

/* ---- app core only ---------------------------------------------------------- */
#define TB_NRF_SPU 0x50003000u            /* regs §1.2 */
#define TB_NRF_QSPI 0x5002B000u           /* regs §1.2, §3.2 */
#define TB_NRF_APP_RAM 0x20000000u        /* regs §1.1: 512 KiB */
#define TB_NRF_APP_RAM_SIZE 0x00080000u
#define TB_NRF_NET_RAM 0x21000000u        /* regs §1.1: 64 KiB */
#define TB_NRF_NET_RAM_SIZE 0x00010000u

/* ---- FICR (regs §1.3) --------------------------------------------------------- */
#define TB_FICR_FAMILY 0x130u             /* 0x07 = nRF53 family (N8) */
#define TB_FICR_REVCODE 0x134u

/* ---- NVMC (regs §2.1) ------------------------------------------------------------ */
#define TB_NVMC_READY 0x400u              /* bit0: 1 = ready */
#define TB_NVMC_READYNEXT 0x408u          /* bit0: 1 = a new write is accepted */
#define TB_NVMC_CONFIG 0x504u             /* WEN 2:0: 0 Ren, 1 Wen, 2 Een */
#define TB_NVMC_CONFIGNS 0x584u           /* app only; WEN 1:0 for non-secure flash */
#define TB_NVMC_REN 0u
#define TB_NVMC_WEN 1u
#define TB_NVMC_EEN 2u

/* ---- CLOCK (regs §6.1, §3.3) ------------------------------------------------------- */
#define TB_CLK_TASKS_HFCLKSTART 0x000u
#define TB_CLK_TASKS_HFCLKSTOP 0x004u
#define TB_CLK_EVENTS_HFCLKSTARTED 0x100u
#define TB_CLK_INTENCLR 0x308u
#define TB_CLK_HFCLKSTAT 0x40Cu           /* STATE bit16, SRC bit0 (1 = HFXO) */
#define TB_CLK_HFCLKSRC 0x514u            /* 1 = HFXO */
#define TB_CLK_HFCLKCTRL 0x558u           /* app only: 0 = /1 (128 MHz), 1 = /2 (64 MHz) */
#define TB_CLK_HFCLK192MCTRL 0x5B8u       /* app only: 0 /1, 1 /2, 2 /4 (reset) */

/* ---- RESET (regs §4.1) ----------------------------------------------------------- */
#define TB_RESET_FORCEOFF 0x614u          /* NETWORK.FORCEOFF: 1 hold, 0 release */
#define TB_RESET_ERRATUM161 0x618u        /* undocumented, erratum 161 */

/* ---- SPU (regs §4.2) ----------------------------------------------------------- */
#define TB_SPU_EXTDOMAIN0 0x440u          /* SECATTR bit4, LOCK bit8 */
#define TB_SPU_RAMREGION(n) (0x700u + 4u * (n))
#define TB_SPU_RAMREGION_SIZE 0x2000u     /* 8 KiB */
#define TB_SPU_PERM_EXECUTE (1u << 0)
#define TB_SPU_PERM_WRITE (1u << 1)
#define TB_SPU_PERM_READ (1u << 2)
#define TB_SPU_PERM_SECATTR (1u << 4)
#define TB_SPU_PERM_LOCK (1u << 8)

/* ---- GPIO (regs §4.3) --------------------------------------------------------- */
#define TB_GPIO_OUTSET 0x008u             /* from the port base (0x..500) */
#define TB_GPIO_PIN_CNF(n) (0x200u + 4u * (n))
#define TB_GPIO_PIN_CNF_RESET 0x00000002u /* input, buffer disconnected (regs §4.3 N4) */
#define TB_GPIO_MCUSEL_SHIFT 28u
#define TB_GPIO_MCUSEL_NET 1u

/* ---- UARTE (regs §5.2) ---------------------------------------------------------- */
#define TB_UARTE_TASKS_STOPRX 0x004u
#define TB_UARTE_TASKS_STARTTX 0x008u
#define TB_UARTE_TASKS_STOPTX 0x00Cu
#define TB_UARTE_EVENTS_ENDTX 0x120u
#define TB_UARTE_EVENTS_TXSTOPPED 0x158u
#define TB_UARTE_INTENCLR 0x308u
#define TB_UARTE_ERRORSRC 0x480u
#define TB_UARTE_ENABLE 0x500u            /* 8 = enabled */
#define TB_UARTE_PSEL_RTS 0x508u
#define TB_UARTE_PSEL_TXD 0x50Cu
#define TB_UARTE_PSEL_CTS 0x510u
#define TB_UARTE_PSEL_RXD 0x514u
#define TB_UARTE_BAUDRATE 0x524u
#define TB_UARTE_TXD_PTR 0x544u
#define TB_UARTE_TXD_MAXCNT 0x548u
#define TB_UARTE_RXENABLE 0x564u          /* hidden, erratum 44 */
#define TB_UARTE_TXENABLE 0x568u          /* hidden, erratum 44 */
#define TB_UARTE_CONFIG 0x56Cu
#define TB_UARTE_ENABLE_ON 8u
#define TB_UARTE_BAUD_115200 0x01D60000u
#define TB_PSEL_DISCONNECTED 0xFFFFFFFFu

/* ---- QSPI (regs §3.2) ------------------------------------------------------------- */
#define TB_QSPI_TASKS_ACTIVATE 0x000u
#define TB_QSPI_TASKS_READSTART 0x004u
#define TB_QSPI_TASKS_WRITESTART 0x008u
#define TB_QSPI_TASKS_ERASESTART 0x00Cu
#define TB_QSPI_TASKS_DEACTIVATE 0x010u
#define TB_QSPI_EVENTS_READY 0x100u
#define TB_QSPI_INTENCLR 0x308u
#define TB_QSPI_ENABLE 0x500u
#define TB_QSPI_READ_SRC 0x504u
#define TB_QSPI_READ_DST 0x508u
#define TB_QSPI_READ_CNT 0x50Cu
#define TB_QSPI_WRITE_DST 0x510u
#define TB_QSPI_WRITE_SRC 0x514u
#define TB_QSPI_WRITE_CNT 0x518u
#define TB_QSPI_ERASE_PTR 0x51Cu
#define TB_QSPI_ERASE_LEN 0x520u
#define TB_QSPI_PSEL_SCK 0x524u
#define TB_QSPI_PSEL_CSN 0x528u
#define TB_QSPI_PSEL_IO0 0x530u
#define TB_QSPI_PSEL_IO1 0x534u
#define TB_QSPI_PSEL_IO2 0x538u
#define TB_QSPI_PSEL_IO3 0x53Cu
#define TB_QSPI_XIPOFFSET 0x540u
#define TB_QSPI_IFCONFIG0 0x544u
#define TB_QSPI_XIPEN 0x54Cu
#define TB_QSPI_IFCONFIG1 0x600u
#define TB_QSPI_STATUS 0x604u
#define TB_QSPI_CINSTRCONF 0x634u
#define TB_QSPI_CINSTRDAT0 0x638u
#define TB_QSPI_CINSTRDAT1 0x63Cu
#define TB_QSPI_IFTIMING 0x640u

#endif
