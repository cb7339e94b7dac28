/* ldexp() for libcbor on the nRF5340 application core, without libm.
 *
 * libcbor 0.8.0's internal/loaders.c decodes half-precision floats (RFC 7049
 * appendix D) with ldexp(): _cbor_decode_half(), reached from
 * cbor_stream_decode() for every 0xF9 item, so the linker keeps it in any
 * image that decodes CBOR. newlib's ldexp() costs about 2.3 KiB of code plus
 * 1 KiB of RAM (it sets errno, which drags in newlib's reentrancy struct),
 * and libm is outside what the device code may take from the C library
 * (memcpy/memset/memcmp/memmove/strlen: scripts/cross-build.sh checks it).
 *
 * scripts/cross-build.sh therefore compiles libcbor's files with
 * -Dldexp=tb_cbor_ldexp and puts this file into libcbor-m33.a. It is a
 * complete ldexp: x * 2^n, correctly rounded (to nearest, ties to even) in
 * every case, including subnormal results, overflow to +-infinity and
 * underflow to +-0; +-0, infinities and NaNs come back unchanged. It works
 * on the bits only (no floating-point arithmetic, so no soft-float helpers)
 * and sets no errno. For libcbor's own calls (integer mantissas below 2^11,
 * exponents -24..5) the result is always exact.
 */
#include <stdint.h>

double tb_cbor_ldexp(double x, int n);

double tb_cbor_ldexp(double x, int n)
{
    union {
        double d;
        uint64_t u;
    } v = {.d = x};
    const uint64_t sign = v.u & 0x8000000000000000u;
    const uint64_t frac_mask = 0x000FFFFFFFFFFFFFu;
    const uint64_t hidden = 0x0010000000000000u; /* 2^52 */
    int e = (int)((v.u >> 52) & 0x7FFu);
    uint64_t m = v.u & frac_mask;

    if (e == 0x7FF || (e == 0 && m == 0)) {
        return x; /* NaN, +-infinity, +-0 */
    }
    if (e == 0) { /* subnormal: normalise, so that m has the hidden bit */
        e = 1;
        while ((m & hidden) == 0) {
            m <<= 1;
            e--;
        }
    } else {
        m |= hidden;
    }
    /* |x| = m * 2^(e - 1075), 2^52 <= m < 2^53, -51 <= e <= 2046. Clamping n
     * changes nothing: beyond +-2200 every finite x overflows or underflows. */
    if (n > 2200) {
        n = 2200;
    } else if (n < -2200) {
        n = -2200;
    }
    e += n;
    if (e >= 0x7FF) {
        v.u = sign | 0x7FF0000000000000u; /* overflow: +-infinity */
        return v.d;
    }
    if (e >= 1) {
        v.u = sign | ((uint64_t)e << 52) | (m & frac_mask);
        return v.d;
    }
    /* Subnormal or zero result: m * 2^(e - 1075) = (m >> (1 - e)) * 2^-1074,
     * rounded to nearest, ties to even. A carry out of the fraction turns it
     * into the smallest normal number, which is then the correct result. */
    int sh = 1 - e;
    if (sh > 54) {
        v.u = sign; /* below half the smallest subnormal: +-0 */
        return v.d;
    }
    uint64_t q = m >> sh;
    const uint64_t rem = m & ((UINT64_C(1) << sh) - 1);
    const uint64_t half = UINT64_C(1) << (sh - 1);
    if (rem > half || (rem == half && (q & 1) != 0)) {
        q++;
    }
    v.u = sign | q;
    return v.d;
}
