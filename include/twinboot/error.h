/* twinboot error codes.
 *
 * Every fallible call in twinboot returns an int: TB_OK (0) on success or one
 * of the negative codes below. Each malformed input has its own code so that
 * a refusal can be reported (and tested) precisely.
 */
#ifndef TWINBOOT_ERROR_H
#define TWINBOOT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum tb_err {
    TB_OK = 0,

    /* generic */
    TB_E_INVAL = -1,       /* bad argument */
    TB_E_RANGE = -2,       /* access outside the flash device or area */
    TB_E_ALIGN = -3,       /* offset or length not aligned to the write block / sector */
    TB_E_IO = -4,          /* the flash driver reported a failure */
    TB_E_POWER = -5,       /* the power was cut (simulator): nothing more happens until reset */
    TB_E_REPROGRAM = -6,   /* program of a location not erased since it was last programmed */
    TB_E_UNSUPPORTED = -7, /* a feature this build does not have */
    TB_E_CRYPTO = -8,      /* the crypto backend failed (not a verdict on the image) */
    TB_E_NOSPACE = -9,     /* a fixed buffer or table is full */

    /* MCUboot image format (lib/image.c) */
    TB_E_IMG_MAGIC = -20,         /* header magic is not 0x96f3b83d */
    TB_E_IMG_HDR_SIZE = -21,      /* ih_hdr_size below 32 or beyond the slot */
    TB_E_IMG_TOO_LARGE = -22,     /* header + payload + protected TLVs do not fit the slot */
    TB_E_IMG_FLAGS = -23,         /* encrypted / compressed / PIC image: not supported */
    TB_E_IMG_NON_BOOTABLE = -24,  /* NON_BOOTABLE flag set */
    TB_E_IMG_TLV_MAGIC = -25,     /* TLV info header magic wrong */
    TB_E_IMG_PROT_SIZE = -26,     /* protected TLV area size disagrees with the header */
    TB_E_IMG_TLV_OVERFLOW = -27,  /* TLV area runs past the end of the slot */
    TB_E_IMG_TLV_LEN = -28,       /* a TLV's length runs past its section, or has a wrong size */
    TB_E_IMG_TLV_UNPROTECTED = -29, /* SEC_CNT / DEPENDENCY outside the protected area */
    TB_E_IMG_NO_HASH = -30,       /* no SHA TLV */
    TB_E_IMG_HASH_MISMATCH = -31, /* SHA TLV does not match the image */
    TB_E_IMG_UNKNOWN_KEY = -32,   /* KEYHASH / PUBKEY matches no trusted key */
    TB_E_IMG_NO_SIGNATURE = -33,  /* keys are configured but the image has no usable signature */
    TB_E_IMG_BAD_SIGNATURE = -34, /* the signature does not verify */
    TB_E_IMG_KEY = -35,           /* a trusted key cannot be parsed */
    TB_E_IMG_TOO_MANY_DEPS = -36, /* more DEPENDENCY TLVs than TB_IMAGE_MAX_DEPS */
    TB_E_IMG_EMPTY = -37,         /* the slot is erased: no image at all */
    TB_E_IMG_DECOMP = -46,        /* compressed image: DECOMP_* TLVs or LZMA2 header malformed */
    TB_E_IMG_DECODE = -47,        /* compressed image: the LZMA2 stream does not decode to DECOMP_SIZE bytes */

    /* boot engine (lib/boot.c): reasons a request is refused, end states */
    TB_E_BOOT_DOWNGRADE = -50,    /* older than the running image (downgrade prevention) */
    TB_E_BOOT_SEC_CNT = -51,      /* security counter lower than the running image's */
    TB_E_BOOT_DEPENDENCY = -52,   /* a DEPENDENCY TLV is not met */
    TB_E_BOOT_NO_BACKUP = -53,    /* nothing valid to revert to */
    TB_E_BOOT_NO_IMAGE = -54,     /* no bootable image: wait for recovery */
    TB_E_BOOT_LAYOUT = -55,       /* the partition layout is invalid */
    TB_E_BOOT_JOURNAL = -56,      /* the progress journal contradicts the flash contents */
    TB_E_BOOT_SET = -57,          /* refused because the other image of its update set was */

    /* network core (lib/handover.c, lib/netboot.c) */
    TB_E_NC_TIMEOUT = -60,        /* the net core did not answer */
    TB_E_NC_REFUSED = -61,        /* the net core refused or failed a command */
};

/* A short English text for an error code (never NULL). */
const char *tb_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
