/* libFuzzer target: SMP frames (header + CBOR) into the server of a
 * simulated device; inputs starting with 0x06 0x09 go through the serial
 * console deframer first (base64 lines, length, CRC16). Any crash or sanitizer report,
 * a response that is not header + CBOR map, or a flash access outside the
 * device's slots (the simulator refuses them: the server then answers an
 * error, which is fine) is what this looks for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "smp_serial.h"
#include "twinboot/boot.h"
#include "twinboot/error.h"
#include "twinboot/sim.h"
#include "twinboot/smp.h"

static struct tb_simdev dev;
static struct tb_device tdev;
static struct tb_layout lay;
static struct tb_boot_config cfg;
static struct tb_boot_record rec;
static struct tb_smp_server srv;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (tb_simdev_init(&dev) != TB_OK) {
        abort();
    }
    tdev.nflash = TB_SIM_NFLASH;
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        tdev.flashes[i] = &dev.fl[i].flash;
    }
    lay = tb_layout_nrf5340_dk;
    lay.image_count = 1; /* no net core in this harness: the image group on image 0 */
    cfg = (struct tb_boot_config){.layout = &lay, .dev = &tdev, .keys = {NULL, 0}};
    (void)tb_boot_go(&cfg, &rec);
    struct tb_smp_env env = {&cfg, &rec, 1024, 4, "fuzz"};
    tb_smp_init(&srv, &env);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t rsp[4096], msg[4096];
    size_t n = 0;
    if (size > 8192) {
        return 0;
    }
    if (size >= 2 && data[0] == 0x06 && data[1] == 0x09) {
        /* a serial stream: every frame the deframer gives up goes to the server */
        static struct tb_serial_rx rx;
        memset(&rx, 0, sizeof(rx));
        size_t off = 0, used = 0;
        while (off < size) {
            size_t got = tb_serial_feed(&rx, data + off, size - off, &used, msg, sizeof(msg));
            if (used == 0 || used > size - off) {
                abort();
            }
            off += used;
            if (got > 0) {
                (void)tb_smp_handle(&srv, msg, got, rsp, sizeof(rsp), &n);
            }
        }
        srv.reset_requested = false;
        return 0;
    }
    if (size > 4096) {
        return 0;
    }
    int rc = tb_smp_handle(&srv, data, size, rsp, sizeof(rsp), &n);
    if (rc == TB_OK) {
        struct tb_smp_hdr h;
        if (n < TB_SMP_HDR_SIZE || n > sizeof(rsp)) {
            abort();
        }
        tb_smp_hdr_decode(rsp, &h);
        struct cbor_load_result res;
        cbor_item_t *it = cbor_load(rsp + TB_SMP_HDR_SIZE, h.len, &res);
        if (it == NULL || !cbor_isa_map(it) || h.len != n - TB_SMP_HDR_SIZE) {
            abort();
        }
        cbor_decref(&it);
    } else if (rc != TB_E_INVAL) {
        abort();
    }
    srv.reset_requested = false;
    return 0;
}
