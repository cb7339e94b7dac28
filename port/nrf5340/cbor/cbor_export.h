/* libcbor's cbor/cbor_export.h for twinboot's Cortex-M33 build. Upstream
 * generates it with CMake's GenerateExportHeader to set symbol visibility in
 * the shared library; the device links libcbor statically, so every export
 * macro is empty. Found before libcbor's src/ through port/nrf5340 on the
 * include path (see configuration.h beside this file). */
#ifndef CBOR_EXPORT_H
#define CBOR_EXPORT_H

#define CBOR_EXPORT
#define CBOR_NO_EXPORT

#ifndef CBOR_DEPRECATED
#define CBOR_DEPRECATED __attribute__((__deprecated__))
#endif
#define CBOR_DEPRECATED_EXPORT CBOR_EXPORT CBOR_DEPRECATED
#define CBOR_DEPRECATED_NO_EXPORT CBOR_NO_EXPORT CBOR_DEPRECATED

#endif /* CBOR_EXPORT_H */
