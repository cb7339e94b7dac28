/* mbedTLS 2.28 configuration for twinboot on the nRF5340 application core
 * (Cortex-M33, -mcpu=cortex-m33 -mthumb). scripts/cross-build.sh passes it
 * to mbedTLS and to lib/ as -DMBEDTLS_CONFIG_FILE="<abs path>/mbedtls_config.h".
 *
 * Written from scratch, not derived from mbedTLS's default config.h: every
 * option that is not listed here is OFF. The device only VERIFIES images, so
 * the config is the smallest set that gives twinboot's lib/crypto_*.c:
 *   - SHA-256, SHA-384, SHA-512            (image hash TLVs, key hashes)
 *   - ECDSA-P256 signature verification    (imgtool's ECDSA_SIG TLV);
 *     ECDSA-P384 with -DTB_CONFIG_ECDSA_P384
 *   - RSASSA-PSS verification, RSA-2048/3072 (imgtool's RSA*_PSS TLVs)
 *   - the ASN.1 parser for imgtool's getpub DER keys and DER signatures.
 * No RNG, no entropy source, no file system, no time, no libc heap, no stdio.
 *
 * Heap: mbedTLS allocates bignums (and md contexts) through mbedtls_calloc.
 * With MEMORY_BUFFER_ALLOC_C that is a first-fit allocator over a static
 * buffer that the port hands over ONCE at start-up, before any verify:
 *     static unsigned char heap[N];
 *     mbedtls_memory_buffer_alloc_init(heap, sizeof heap);
 * Until then every mbedtls_calloc returns NULL (platform.c's "uninit" stubs,
 * selected by PLATFORM_NO_STD_FUNCTIONS below): a port that forgets the call
 * (or gives too little) gets every signature check failing, closed; there is
 * no fallback to libc's malloc. Sizes measured in QEMU with lib's call
 * sequence (README.md): ECDSA-P256 4608 B, RSA-2048-PSS 5504 B,
 * RSA-3072-PSS 7936 B, SHA-2 none (contexts live on the caller's stack).
 *
 * Ed25519 is not in mbedTLS 2.28; the M33 build compiles lib/ with
 * -DTB_CONFIG_NO_ED25519 instead.
 */
#ifndef TWINBOOT_NRF5340_MBEDTLS_CONFIG_H
#define TWINBOOT_NRF5340_MBEDTLS_CONFIG_H

/* ---- System support ---------------------------------------------------- */

/* Inline assembly in bn_mul.h: on a Cortex-M33 with DSP this is the UMAAL
 * multiply-accumulate loop. Roughly 5x fewer instructions per ECDSA-P256
 * verify (QEMU, docs/nrf5340-facts.md: 164.5 M -> 29.6 M together
 * with ECP_NIST_OPTIM) for about +0.4 KiB of code. (The net core has no DSP: the same header
 * then falls back to a UMLAL-based loop; still far faster than plain C.) */
#define MBEDTLS_HAVE_ASM

/* The M33 divides only 32/32 in hardware: bignum.c's 64/32 division would
 * call libgcc's __aeabi_uldivmod/__udivmoddi4 (~0.75 KiB of software
 * division anyway). With this, bignum.c does the 64/32 step itself with
 * 32-bit UDIVs: ~0.6 KiB smaller once linked. */
#define MBEDTLS_NO_UDBL_DIVISION

/* Not defined on purpose:
 *   MBEDTLS_HAVE_TIME / HAVE_TIME_DATE - no wall clock in a bootloader;
 *   MBEDTLS_FS_IO                       - no file system;
 *   MBEDTLS_SELF_TEST                   - would pull in printf;
 *   MBEDTLS_CHECK_PARAMS                - would need an assert hook;
 *   MBEDTLS_ERROR_C                     - strings table, not needed. */

/* ---- Platform layer: no libc heap, no stdio, no exit -------------------- */

/* platform.c: needed by PLATFORM_MEMORY (check_config). */
#define MBEDTLS_PLATFORM_C

/* mbedtls_calloc/mbedtls_free become function pointers that
 * memory_buffer_alloc.c points at its static-buffer allocator. */
#define MBEDTLS_PLATFORM_MEMORY

/* Don't default the platform hooks to libc's calloc/free/printf/exit:
 * platform.h then includes neither <stdio.h> nor <stdlib.h>, and platform.c
 * initialises the calloc/free pointers to stubs that return NULL / do
 * nothing. This is what keeps calloc and free out of the archive's
 * undefined symbols (checked by scripts/cross-build.sh). */
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS

/* memory_buffer_alloc.c calls mbedtls_exit(1) when it finds its heap
 * corrupted (a double free or an overrun). Without this macro that is
 * libc's exit(). On the device the right reaction is to stop at once: UDF,
 * i.e. a HardFault, which the port's fault handler turns into a reset. */
#define MBEDTLS_PLATFORM_EXIT_MACRO(status) __builtin_trap()

/* No snprintf: with PLATFORM_NO_STD_FUNCTIONS mbedtls_snprintf would be an
 * undeclared name. Its only user in this build is oid.c's
 * mbedtls_oid_get_numeric_string() (dotted-decimal OIDs for X.509 printing,
 * never called by twinboot), which then fails with
 * MBEDTLS_ERR_OID_BUF_TOO_SMALL instead of pulling in libc's printf engine. */
#include <stddef.h>
static inline int tb_mbedtls_no_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    (void)buf;
    (void)size;
    (void)fmt;
    return -1;
}
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO tb_mbedtls_no_snprintf

/* First-fit allocator over a static buffer (see the top of this file). */
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C

/* No OS entropy source (/dev/urandom, getrandom): there is no OS. Nothing in
 * this config needs entropy anyway (no ENTROPY_C, no DRBG), but this keeps
 * entropy_poll.c from ever referencing one if ENTROPY_C is added later. */
#define MBEDTLS_NO_PLATFORM_ENTROPY

/* ---- Hashes ------------------------------------------------------------- */

/* SHA-256 (and SHA-224, which 2.28 always builds with it): the image hash.
 * The unrolled (default) variant is kept over MBEDTLS_SHA256_SMALLER: it
 * hashes about 1.5x faster (≈41 vs ≈61 instructions per byte, measured in
 * QEMU), which is boot time on every boot of a large image. */
#define MBEDTLS_SHA256_C

/* SHA-384/512 (mbedtls/sha512.h): SHA-384/512 image hashes and the EMSA-PSS
 * hash choices of RSA keys. SHA-384 is kept (no SHA512_NO_SHA384). */
#define MBEDTLS_SHA512_C

/* Rolled SHA-512 compression loop: 4.3 -> 2.3 KiB. SHA-384/512 are the rare
 * hashes for imgtool images (SHA-256 is the default), so code size wins
 * over speed here, unlike for SHA-256 above. */
#define MBEDTLS_SHA512_SMALLER

/* The generic message-digest layer: rsa.c's PSS verify hashes M' and runs
 * MGF1 through mbedtls_md_*. Required by PKCS1_V21 (check_config). */
#define MBEDTLS_MD_C

/* ---- Big numbers and elliptic curves ------------------------------------ */

/* Multi-precision integers: ECP and RSA. */
#define MBEDTLS_BIGNUM_C

/* Largest MPI: 384 bytes = RSA-3072, the largest key imgtool signs with.
 * The default (1024 bytes, RSA-8192) costs stack: rsa.c's PSS verify keeps
 * an MBEDTLS_MPI_MAX_SIZE buffer on the stack. Raise to 512 for RSA-4096. */
#define MBEDTLS_MPI_MAX_SIZE 384

/* Elliptic-curve arithmetic; only NIST P-256 (imgtool's ecdsa-p256). Only
 * the curves listed here are compiled into ecp_curves.c, and
 * MBEDTLS_ECP_MAX_BITS is derived from them (256). */
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED

/* NIST P-384 (imgtool's ecdsa-p384, SHA-384 images), a build option: it
 * raises MBEDTLS_ECP_MAX_BITS to 384 (bigger bignums and heap for every
 * curve) and adds the curve's constants. Pass -DTB_CONFIG_ECDSA_P384 to
 * mbedTLS and lib/ alike (scripts/cross-build.sh: TB_CROSS_EXTRA_CFLAGS);
 * without it lib/ answers TB_E_UNSUPPORTED for P-384 keys. */
#ifdef TB_CONFIG_ECDSA_P384
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#endif

/* Fast modular reduction for the NIST primes (P-256's special form): a
 * large share of the HAVE_ASM speed-up above, small in code. */
#define MBEDTLS_ECP_NIST_OPTIM

/* 2.28's check_config: ECP_C needs a DRBG (CTR/HMAC) for the blinding of
 * scalar multiplications unless this is set. Verification uses only public
 * data, so blinding buys nothing here, and we have no entropy to seed one. */
#define MBEDTLS_ECP_NO_INTERNAL_RNG

/* No cached comb table for the base point G. The table would live in the
 * ecp_group, but twinboot loads the group afresh for every verify, so it is
 * rebuilt each time anyway: turning the cache off costs no time (25.08 M vs
 * 25.10 M instructions per P-256 verify in QEMU) and cuts the heap a P-256
 * verify needs from 6016 to 4608 bytes. ECP_WINDOW_SIZE keeps its default
 * (4): 3 would save 1.3 KiB of heap for +5 % time, but the heap is sized by
 * RSA anyway (5.5 KiB for RSA-2048 PSS, see port/nrf5340/README.md). */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

/* ---- Signatures --------------------------------------------------------- */

/* ECDSA: mbedtls_ecdsa_read_signature / mbedtls_ecdsa_verify. */
#define MBEDTLS_ECDSA_C

/* RSA public-key operations (mbedtls_rsa_public, PSS verify). */
#define MBEDTLS_RSA_C

/* PKCS#1 v2.1 = RSASSA-PSS (mbedtls_rsa_rsassa_pss_verify_ext). v1.5 is
 * left out: MCUboot/imgtool signs RSA images only with PSS. */
#define MBEDTLS_PKCS1_V21

/* Required by RSA_C (check_config). Nothing in this build calls oid.c
 * (rsa.c uses it only for PKCS#1 v1.5 DigestInfo; twinboot uses just the
 * MBEDTLS_OID_* byte-string macros of oid.h), so it is compiled into the
 * archive but the linker keeps none of it (0 bytes in the size probe). */
#define MBEDTLS_OID_C

/* ---- ASN.1 -------------------------------------------------------------- */

/* DER parsing: SubjectPublicKeyInfo (getpub), RSAPublicKey, ECDSA-Sig-Value
 * (mbedtls_asn1_get_tag, get_alg, get_bitstring_null, get_mpi). */
#define MBEDTLS_ASN1_PARSE_C

/* Demanded by 2.28's check_config for ECDSA_C (signing writes DER). A
 * verify-only image keeps none of it: the cross build compiles with
 * -ffunction-sections and links with --gc-sections. */
#define MBEDTLS_ASN1_WRITE_C

#include "mbedtls/check_config.h"

#endif /* TWINBOOT_NRF5340_MBEDTLS_CONFIG_H */
