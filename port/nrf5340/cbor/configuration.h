/* libcbor 0.8.0's cbor/configuration.h for twinboot on the nRF5340
 * application core (Cortex-M33). Upstream generates this file with CMake
 * from src/cbor/configuration.h.in; scripts/cross-build.sh builds libcbor's
 * allocation-free files without CMake, so this hand-written copy stands in.
 * The include path puts port/nrf5340 BEFORE libcbor's src/, so
 * `#include "cbor/configuration.h"` in libcbor's headers finds this file,
 * both for libcbor's own files and for lib/ (lib/smp.c includes <cbor.h>).
 *
 * Only the encoders (encoding.c, internal/encoders.c) and the streaming
 * decoder (streaming.c, internal/loaders.c, callbacks.c) are compiled for
 * the device: no cbor_item_t, no builder, no heap. The macros below only
 * have to keep libcbor's headers consistent with that.
 */
#ifndef LIBCBOR_CONFIGURATION_H
#define LIBCBOR_CONFIGURATION_H

/* Must match the source package the script builds (it refuses anything but
 * 0.8.x) and the host's libcbor-dev 0.8.0, against which lib/ is tested. */
#define CBOR_MAJOR_VERSION 0
#define CBOR_MINOR_VERSION 8
#define CBOR_PATCH_VERSION 0

/* No cbor_set_allocs(): common.h then maps _CBOR_MALLOC/_CBOR_FREE to
 * malloc/free, but only as macros. None of the files built for the device
 * expands them (the cross build's libc check fails the build if one did). */
#define CBOR_CUSTOM_ALLOC 0

/* Growth factor of the builder's and serializer's heap buffers, and the
 * depth limit of the (heap-based) decoding stack of cbor_load(). Neither is
 * compiled for the device; the values are upstream's defaults so that the
 * headers read the same as on the host. */
#define CBOR_BUFFER_GROWTH 2
#define CBOR_MAX_STACK_SIZE 2048

/* CBOR_PRETTY_PRINTER is deliberately not defined: cbor.h then does not
 * declare cbor_describe() and does not include <stdio.h> for it. (The
 * headers test it with #if, where an undefined name counts as 0.) */

/* As CMake sets them for GCC. */
#define CBOR_RESTRICT_SPECIFIER restrict
#define CBOR_INLINE_SPECIFIER

#endif /* LIBCBOR_CONFIGURATION_H */
