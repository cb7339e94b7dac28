/* SMP over a serial line, as Zephyr's console transport frames it:
 * len (2, BE) | SMP message | CRC16/XMODEM (2, BE), base64, cut into lines
 * of at most 127 bytes: 06 09 + base64 + \n for the first line, 04 14 + base64
 * + \n for the others. Lines without a marker (console output) are skipped. */
#ifndef TB_TOOLS_SMP_SERIAL_H
#define TB_TOOLS_SMP_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#define TB_SERIAL_LINE_MAX 127U

uint16_t tb_crc16_xmodem(const uint8_t *p, size_t n);

/* Frame one SMP message; returns the bytes written to out (0 if it does not fit). */
size_t tb_serial_encode(const uint8_t *msg, size_t len, uint8_t *out, size_t cap);

/* Collects lines until a whole frame is in. */
struct tb_serial_rx {
    char line[TB_SERIAL_LINE_MAX + 2];
    size_t line_len;
    char b64[8192];
    size_t b64_len;
    int in_frame;
};

/* Feed received bytes; when a complete, CRC-correct frame is in, copies its
 * SMP message to msg and returns its length (> 0); consumed says how many of
 * the given bytes were used (call again with the rest). 0: need more bytes.
 * Bad frames are dropped silently, as a device does; a message larger than
 * cap comes up cut to cap bytes (its header intact: it can be answered). */
size_t tb_serial_feed(struct tb_serial_rx *rx, const uint8_t *in, size_t n, size_t *consumed, uint8_t *msg,
                      size_t cap);

#endif
