/* Texts for tb_err codes: what went wrong, in words a user can act on. */
#include "twinboot/error.h"

const char *tb_strerror(int err)
{
    switch (err) {
    case TB_OK: return "ok";
    case TB_E_INVAL: return "invalid argument";
    case TB_E_RANGE: return "access outside the flash area";
    case TB_E_ALIGN: return "offset or length not aligned to the flash's write block or sector";
    case TB_E_IO: return "flash I/O error";
    case TB_E_POWER: return "power was cut";
    case TB_E_REPROGRAM: return "program of flash not erased since its last program";
    case TB_E_UNSUPPORTED: return "not supported by this build";
    case TB_E_CRYPTO: return "crypto backend failure";
    case TB_E_NOSPACE: return "no space left in a fixed buffer";
    case TB_E_IMG_MAGIC: return "bad image magic (not an MCUboot image, or a big-endian one)";
    case TB_E_IMG_HDR_SIZE: return "header size out of range";
    case TB_E_IMG_TOO_LARGE: return "image larger than the slot";
    case TB_E_IMG_FLAGS: return "image flags ask for an unsupported feature (encryption, compression, PIC)";
    case TB_E_IMG_NON_BOOTABLE: return "image is flagged non-bootable";
    case TB_E_IMG_TLV_MAGIC: return "bad TLV info magic";
    case TB_E_IMG_PROT_SIZE: return "protected TLV area size does not match the header";
    case TB_E_IMG_TLV_OVERFLOW: return "TLV area overflows the slot";
    case TB_E_IMG_TLV_LEN: return "TLV length out of bounds";
    case TB_E_IMG_TLV_UNPROTECTED: return "security counter or dependency TLV outside the protected area";
    case TB_E_IMG_NO_HASH: return "image has no hash TLV";
    case TB_E_IMG_HASH_MISMATCH: return "image hash mismatch";
    case TB_E_IMG_UNKNOWN_KEY: return "image is signed by an unknown key";
    case TB_E_IMG_NO_SIGNATURE: return "no signature found for a trusted key";
    case TB_E_IMG_BAD_SIGNATURE: return "bad signature";
    case TB_E_IMG_KEY: return "trusted key cannot be parsed";
    case TB_E_IMG_TOO_MANY_DEPS: return "too many dependency TLVs";
    case TB_E_IMG_EMPTY: return "slot is empty (erased)";
    case TB_E_IMG_DECOMP: return "compressed image: malformed DECOMP TLVs or LZMA2 header";
    case TB_E_IMG_DECODE: return "compressed image: the LZMA2 stream is corrupt";
    case TB_E_BOOT_DOWNGRADE: return "older than the running image (downgrade prevention)";
    case TB_E_BOOT_SEC_CNT: return "security counter lower than the running image's";
    case TB_E_BOOT_DEPENDENCY: return "a dependency on another image is not met";
    case TB_E_BOOT_NO_BACKUP: return "no valid backup to revert to";
    case TB_E_BOOT_NO_IMAGE: return "no bootable image";
    case TB_E_BOOT_LAYOUT: return "invalid partition layout";
    case TB_E_BOOT_JOURNAL: return "progress journal does not match the flash contents";
    case TB_E_BOOT_SET: return "refused with the other image of its update set";
    case TB_E_NC_TIMEOUT: return "the network core did not answer";
    case TB_E_NC_REFUSED: return "the network core refused the command";
    default: return "unknown error";
    }
}
