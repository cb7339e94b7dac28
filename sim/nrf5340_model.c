/* Geometry and timing of the nRF5340 DK memories.
 *
 * The timings are the datasheet-typical figures collected in
 * docs/nrf5340-facts.md with their sources (NVMC tERASEPAGE / tWRITE, MX25R6435F typical
 * sector erase and page program, QSPI at 8 MHz quad I/O). They could not be
 * re-checked against the datasheets: this table is the one place to correct
 * them, and every modelled time in the simulator follows from it.
 */
#include "twinboot/sim.h"

const struct tb_sim_part tb_sim_nrf5340_parts[TB_SIM_NFLASH] = {
    [TB_SIM_APP] = {
        /* app-core NVMC: 256 pages of 4 KiB, 32-bit word writes */
        .name = "app",
        .file = "app.bin",
        .size = 1024u * 1024u,
        .sector_size = 4096u,
        .write_size = 4u,
        .timing = {
            .erase_ns = 87500000u, /* tERASEPAGE 87.5 ms */
            .prog_ns = 41000u,     /* tWRITE 41 us per word */
            .prog_unit = 4u,
            .read_ns_per_kib = 0u, /* memory-mapped: not modelled */
            .async_erase = false,  /* the CPU stalls while the NVMC erases */
        },
    },
    [TB_SIM_NET] = {
        /* net-core NVMC: 128 pages of 2 KiB, same NVMC timings */
        .name = "net",
        .file = "net.bin",
        .size = 256u * 1024u,
        .sector_size = 2048u,
        .write_size = 4u,
        .timing = {
            .erase_ns = 87500000u,
            .prog_ns = 41000u,
            .prog_unit = 4u,
            .read_ns_per_kib = 0u,
            .async_erase = false,
        },
    },
    [TB_SIM_QSPI] = {
        /* MX25R6435F on QSPI: 4 KiB sectors, 256 B pages; the nRF QSPI
         * peripheral moves whole words, hence write_size 4 */
        .name = "qspi",
        .file = "qspi.bin",
        .size = 8u * 1024u * 1024u,
        .sector_size = 4096u,
        .write_size = 4u,
        .timing = {
            .erase_ns = 40000000u,       /* 40 ms typical sector erase */
            .prog_ns = 850000u,          /* 0.85 ms typical per 256 B page */
            .prog_unit = 256u,
            .read_ns_per_kib = 256000u,  /* ~4 MB/s: 250 ns per byte */
            .async_erase = true,         /* the chip erases on its own once told to */
            .async_program = true,       /* ... and programs a page on its own (one page at a time) */
        },
    },
};
