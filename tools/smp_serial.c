/* SMP serial framing (Zephyr's smp_transport.rst). base64 from OpenSSL. */
#include "smp_serial.h"

#include <string.h>

#include <openssl/evp.h>

uint16_t tb_crc16_xmodem(const uint8_t *p, size_t n)
{
    uint16_t crc = 0;
    while (n--) {
        crc ^= (uint16_t)(*p++ << 8);
        for (int k = 0; k < 8; k++) {
            crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
        }
    }
    return crc;
}

size_t tb_serial_encode(const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
    uint8_t pkt[4096];
    char b64[8192];
    if (len + 4 > sizeof(pkt)) {
        return 0;
    }
    uint16_t crc = tb_crc16_xmodem(msg, len);
    pkt[0] = (uint8_t)((len + 2) >> 8);
    pkt[1] = (uint8_t)(len + 2);
    memcpy(pkt + 2, msg, len);
    pkt[2 + len] = (uint8_t)(crc >> 8);
    pkt[3 + len] = (uint8_t)crc;
    int bl = EVP_EncodeBlock((unsigned char *)b64, pkt, (int)(len + 4));
    /* whole base64 quartets per line: each line decodes on its own */
    const size_t per_line = (TB_SERIAL_LINE_MAX - 3) / 4 * 4;
    size_t o = 0;
    for (size_t i = 0; i < (size_t)bl; i += per_line) {
        size_t n = (size_t)bl - i < per_line ? (size_t)bl - i : per_line;
        if (o + n + 3 > cap) {
            return 0;
        }
        out[o++] = i == 0 ? 0x06 : 0x04;
        out[o++] = i == 0 ? 0x09 : 0x14;
        memcpy(out + o, b64 + i, n);
        o += n;
        out[o++] = '\n';
    }
    return o;
}

/* A line is in: start or continue a frame; 1 when the frame is complete. */
static size_t line_done(struct tb_serial_rx *rx, uint8_t *msg, size_t cap)
{
    const char *l = rx->line;
    size_t n = rx->line_len;
    rx->line_len = 0;
    if (n >= 2 && (uint8_t)l[0] == 0x06 && l[1] == 0x09) {
        rx->in_frame = 1;
        rx->b64_len = 0;
    } else if (!(n >= 2 && (uint8_t)l[0] == 0x04 && l[1] == 0x14 && rx->in_frame)) {
        return 0; /* console output, or a continuation without a start */
    }
    if (rx->b64_len + n - 2 > sizeof(rx->b64)) {
        rx->in_frame = 0;
        return 0;
    }
    memcpy(rx->b64 + rx->b64_len, l + 2, n - 2);
    rx->b64_len += n - 2;
    if (rx->b64_len % 4 != 0) {
        return 0;
    }
    uint8_t pkt[6144];
    if (rx->b64_len / 4 * 3 > sizeof(pkt)) {
        rx->in_frame = 0;
        return 0;
    }
    int dl = EVP_DecodeBlock(pkt, (const unsigned char *)rx->b64, (int)rx->b64_len);
    if (dl < 4) {
        return 0;
    }
    /* EVP_DecodeBlock counts the bytes '=' padding stands for: take them off */
    size_t pad = (rx->b64[rx->b64_len - 1] == '=') + (rx->b64[rx->b64_len - 2] == '=');
    size_t have = (size_t)dl - pad;
    size_t want = ((size_t)pkt[0] << 8 | pkt[1]) + 2;
    if (want >= 4 && want - 4 > cap && have >= 2 + 8) {
        /* a message larger than the buffer: its start (the SMP header, not
         * CRC-checked) goes up so that it can be answered with an error; the
         * rest of its lines are ignored as continuations without a start */
        rx->in_frame = 0;
        size_t len = have - 2 < cap ? have - 2 : cap;
        memcpy(msg, pkt + 2, len);
        return len;
    }
    if (have < want) {
        return 0; /* more lines to come */
    }
    rx->in_frame = 0;
    if (have != want || want < 4 || want - 4 > cap) {
        return 0;
    }
    size_t len = want - 4;
    uint16_t crc = (uint16_t)(pkt[2 + len] << 8 | pkt[3 + len]);
    if (tb_crc16_xmodem(pkt + 2, len) != crc) {
        return 0;
    }
    memcpy(msg, pkt + 2, len);
    return len;
}

size_t tb_serial_feed(struct tb_serial_rx *rx, const uint8_t *in, size_t n, size_t *consumed, uint8_t *msg,
                      size_t cap)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        if (c == '\n') {
            size_t got = line_done(rx, msg, cap);
            if (got > 0) {
                *consumed = i + 1;
                return got;
            }
            continue;
        }
        if (c == '\r') {
            continue;
        }
        if (rx->line_len < sizeof(rx->line)) {
            rx->line[rx->line_len++] = (char)c;
        } else {
            rx->line_len = 0; /* longer than any SMP line: not ours */
            rx->in_frame = 0;
        }
    }
    *consumed = n;
    return 0;
}
