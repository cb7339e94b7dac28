/* A misbehaving SMP device on loopback UDP, for tests of what the client
 * must not trust (tests/cli_smp.sh). One mode per run:
 *   echo      send every datagram back as it came (a plain UDP echo server)
 *   types     well-formed frames whose fields have the wrong CBOR types
 *   stuck     answer every upload chunk with {"off": 0}
 *   text      an image list and an echo whose strings need JSON escaping
 * Usage: smp_fake PORT MODE (runs until killed). */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cbor.h>

#include "cborx.h"
#include "twinboot/smp.h"

static cbor_item_t *answer(const char *mode, const struct tb_smp_hdr *h)
{
    static const uint8_t hash[32] = {0xab};
    cbor_item_t *m = cbor_new_indefinite_map();
    bool types = strcmp(mode, "types") == 0;
    if (h->group == TB_SMP_GROUP_OS && h->id == 0) {
        tb_cbor_add(m, "r", types ? cbor_build_uint8(5) : cbor_build_string("say \"hi\"\tthere\x01"));
    } else if (h->group == TB_SMP_GROUP_IMAGE && h->id == 0) {
        cbor_item_t *arr = cbor_new_indefinite_array(), *e = cbor_new_indefinite_map();
        tb_cbor_add(e, "image", cbor_build_uint8(0));
        tb_cbor_add(e, "slot", cbor_build_uint8(0));
        tb_cbor_add(e, "version", types ? cbor_build_uint8(7) : cbor_build_string("1.0.0\"\t\\"));
        tb_cbor_add(e, "hash", cbor_build_bytestring(hash, 32));
        tb_cbor_add(e, "active", types ? cbor_build_string("yes") : cbor_build_bool(true));
        (void)cbor_array_push(arr, cbor_move(e));
        tb_cbor_add(m, "images", arr);
    } else if (h->group == TB_SMP_GROUP_IMAGE && h->id == 1) {
        tb_cbor_add(m, "off", cbor_build_uint8(0));
        if (types) {
            tb_cbor_add(m, "match", cbor_build_string("yes"));
        }
    } else if (types) {
        tb_cbor_add(m, "rc", cbor_build_string("0"));
    }
    return m;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: smp_fake PORT echo|types|stuck|text\n");
        return 2;
    }
    const char *mode = argv[2];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("smp_fake");
        return 1;
    }
    printf("smp_fake: %s on %s\n", mode, argv[1]);
    fflush(stdout);
    for (;;) {
        uint8_t req[4096], rsp[4096];
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(fd, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
        if (n < (ssize_t)TB_SMP_HDR_SIZE) {
            continue;
        }
        if (strcmp(mode, "echo") == 0) {
            (void)sendto(fd, req, (size_t)n, 0, (struct sockaddr *)&from, fl);
            continue;
        }
        struct tb_smp_hdr h;
        tb_smp_hdr_decode(req, &h);
        cbor_item_t *m = answer(mode, &h);
        unsigned char *body = NULL;
        size_t cap = 0, len = cbor_serialize_alloc(m, &body, &cap);
        cbor_decref(&m);
        h.op |= 1U;
        h.len = (uint16_t)len;
        tb_smp_hdr_encode(&h, rsp);
        memcpy(rsp + TB_SMP_HDR_SIZE, body, len);
        free(body);
        (void)sendto(fd, rsp, TB_SMP_HDR_SIZE + len, 0, (struct sockaddr *)&from, fl);
    }
}
