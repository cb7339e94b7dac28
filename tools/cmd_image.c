/* `twinboot image ...`: imgtool's commands and option names, on twinboot's
 * device-side parser (the verifier is the bootloader's own code). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileio.h"
#include "imgbuild.h"
#include "keyfile.h"
#include "memflash.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"
#include "twinboot/image.h"
#include "twinboot/trailer.h"

#include <openssl/evp.h>

#define MAX_KEYS 8

static const char image_usage[] =
    "usage: twinboot image <command> [options]\n"
    "\n"
    "MCUboot images, with imgtool's command and option names.\n"
    "\n"
    "commands:\n"
    "  keygen      make a signing key (PKCS#8 PEM, as imgtool)\n"
    "  getpub      print a key's public part (C array, PEM or raw DER)\n"
    "  getpubhash  print the hash of the public key (what the KEYHASH TLV holds)\n"
    "  getpriv     print the private key as a C array (DER)\n"
    "  keyinfo     print a key's type, size, protection and key hashes\n"
    "  sign        sign an application binary into an MCUboot image\n"
    "  verify      check an image's structure, hash and signature\n"
    "  dumpinfo    print an image's header, TLVs and trailer\n"
    "\n"
    "over SMP, with mcumgr's names (see 'twinboot image list --help'):\n"
    "  list, upload [-n IMAGE] FILE, test HASH, confirm [HASH], erase [SLOT]\n"
    "\n"
    "Run 'twinboot image <command> --help' for a command's options.\n";

static int usage_error(const char *cmd, const char *msg) { return cli_usage_error("image", cmd, msg); }

/* ---- keygen ---------------------------------------------------------- */

/* imgtool key types twinboot does not sign with: a clear refusal, not "unknown". */
static bool unsupported_type(const char *type)
{
    static const char *const other[] = {"rsa-3072", "ecdsa-p224", "ecdsa-p256-ssl", "x25519", "sym32", "aesgcm"};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        if (strcmp(type, other[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'}, {"key", required_argument, NULL, 'k'},
        {"password", no_argument, NULL, 'p'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *type = NULL, *path = NULL;
    bool protect = false;
    int c;
    while ((c = getopt_long(argc, argv, "t:k:ph", opts, NULL)) != -1) {
        switch (c) {
        case 't': type = optarg; break;
        case 'k': path = optarg; break;
        case 'p': protect = true; break;
        case 'h':
            printf("usage: twinboot image keygen -t TYPE -k KEY.pem [-p]\n\n"
                   "Make a new private key and write it as a PKCS#8 PEM file (mode 0600),\n"
                   "as imgtool keygen does. An existing file is never overwritten.\n\n"
                   "  -t, --type TYPE   ecdsa-p256, ecdsa-p384, rsa-2048 or ed25519\n"
                   "  -k, --key FILE    the key file to create\n"
                   "  -p, --password    encrypt the key with a password: asked twice on the\n"
                   "                    terminal, or taken from $" TBK_PASSWORD_ENV "\n");
            return TB_EXIT_OK;
        default: return usage_error("keygen", "unknown option");
        }
    }
    if (type == NULL || path == NULL || optind != argc) {
        return usage_error("keygen", "needs -t TYPE and -k KEY.pem");
    }
    if (unsupported_type(type)) {
        fprintf(stderr, "twinboot image keygen: unsupported: %s keys (twinboot signs with ecdsa-p256, "
                        "ecdsa-p384, rsa-2048 or ed25519)\n",
                type);
        return TB_EXIT_FAIL;
    }
    int t = tbk_type_from_name(type);
    if (t == 0) {
        return usage_error("keygen", "type must be ecdsa-p256, ecdsa-p384, rsa-2048 or ed25519");
    }
    char err[256], pw[256];
    if (protect && tbk_new_password(pw, sizeof(pw), err, sizeof(err)) != 0) {
        fprintf(stderr, "twinboot image keygen: %s\n", err);
        return TB_EXIT_FAIL;
    }
    int rc = tbk_keygen(t, path, protect ? pw : NULL, err, sizeof(err));
    memset(pw, 0, sizeof(pw));
    if (rc != 0) {
        fprintf(stderr, "twinboot image keygen: %s\n", err);
        return TB_EXIT_FAIL;
    }
    fprintf(stderr, "wrote %s%s key to %s; keep it secret, and give the bootloader its public part "
                    "('twinboot image getpub -k %s')\n",
            protect ? "password-protected " : "", type, path, path);
    return TB_EXIT_OK;
}

/* ---- getpub / getpubhash -------------------------------------------- */

static const char *c_name(int type)
{
    /* imgtool's shortname() */
    switch (type) {
    case TB_KEY_ECDSA_P256: return "ecdsa";
    case TB_KEY_ECDSA_P384: return "ecdsap384";
    case TB_KEY_RSA2048: return "rsa";
    default: return "ed25519";
    }
}

/* imgtool's _emit: the autogen line, 8 bytes a line, a length line if len_name. */
static void print_c_array(FILE *f, const char *name, const char *len_name, const uint8_t *d, size_t n)
{
    fprintf(f, "/* Autogenerated by twinboot, do not edit. */\n");
    fprintf(f, "const unsigned char %s[] = {", name);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s0x%02x,", i % 8 == 0 ? "\n    " : " ", d[i]);
    }
    fprintf(f, "\n};\n");
    if (len_name != NULL) {
        fprintf(f, "const unsigned int %s = %zu;\n", len_name, n);
    }
}

static void print_rust_array(FILE *f, const char *name, const uint8_t *d, size_t n)
{
    fprintf(f, "/* Autogenerated by twinboot, do not edit. */\nstatic %s: &[u8] = &[", name);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s0x%02x,", i % 8 == 0 ? "\n    " : " ", d[i]);
    }
    fprintf(f, "\n];\n");
}

/* The key hash a KEYHASH TLV holds: the DER hashed with the image's hash
 * (SHA-384 for P-384 keys, SHA-256 for the others unless --sha says 512). */
static int key_hash(const uint8_t *der, size_t len, int alg, uint8_t *h)
{
    struct tb_hash_ctx hc;
    if (tb_hash_init(&hc, alg) != TB_OK) {
        return -1;
    }
    if (tb_hash_update(&hc, der, len) != TB_OK) {
        tb_hash_abort(&hc);
        return -1;
    }
    return tb_hash_finish(&hc, h) == TB_OK ? 0 : -1;
}

static int cmd_getpub_common(int argc, char **argv, bool hash)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"encoding", required_argument, NULL, 'e'},
                                         {"lang", required_argument, NULL, 'l'},
                                         {"name-suffix", required_argument, NULL, 'n'},
                                         {"sha", required_argument, NULL, 's'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *cmd = hash ? "getpubhash" : "getpub";
    const char *path = NULL, *enc = NULL, *lang = NULL, *outp = NULL, *suffix = "", *sha = "auto";
    int c;
    while ((c = getopt_long(argc, argv, "k:e:l:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': path = optarg; break;
        case 'e': enc = optarg; break;
        case 'l': lang = optarg; break;
        case 'n': suffix = optarg; break;
        case 's': sha = optarg; break;
        case 'o': outp = optarg; break;
        case 'h':
            printf("usage: twinboot image %s -k KEY.pem [-e %s | -l c|rust] [--name-suffix S] [-o FILE]%s\n\n", cmd,
                   hash ? "lang-c|raw" : "lang-c|lang-rust|pem|raw", hash ? " [--sha auto|256|384|512]" : "");
            printf(hash ? "Print the hash of the public key's DER: the value of the KEYHASH TLV, and\n"
                          "what a bootloader built with a key hash compares. The hash is the image's:\n"
                          "SHA-384 for ecdsa-p384 keys, else SHA-256 (--sha 512 for ed25519 images\n"
                          "signed with --sha 512 or --pure).\n"
                        : "Print the public key as the bootloader embeds it: DER bytes as a C or\n"
                          "Rust array, a PEM file, or the raw DER.\n");
            printf("\n  -k, --key FILE         private or public PEM key\n"
                   "  -e, --encoding ENC     output encoding (default lang-c)\n"
                   "  -l, --lang c|rust      the older spelling of -e lang-c / lang-rust\n"
                   "      --name-suffix S    append S to the array names (several keys in one file)\n"
                   "  -o, --output FILE      write to FILE instead of standard output\n");
            return TB_EXIT_OK;
        default: return usage_error(cmd, "unknown option");
        }
    }
    if (path == NULL || optind != argc) {
        return usage_error(cmd, "needs -k KEY.pem");
    }
    if (enc != NULL && lang != NULL) {
        return usage_error(cmd, "use only one of --encoding/-e or --lang/-l");
    }
    if (lang != NULL) {
        if (strcmp(lang, "c") != 0 && (hash || strcmp(lang, "rust") != 0)) {
            return usage_error(cmd, hash ? "--lang is c" : "--lang is c or rust");
        }
        enc = strcmp(lang, "c") == 0 ? "lang-c" : "lang-rust";
    }
    if (enc == NULL) {
        enc = "lang-c";
    }
    bool known = strcmp(enc, "lang-c") == 0 || strcmp(enc, "raw") == 0 ||
                 (!hash && (strcmp(enc, "lang-rust") == 0 || strcmp(enc, "pem") == 0));
    if (!known) {
        return usage_error(cmd, "unknown encoding");
    }
    if (strcmp(sha, "auto") != 0 && strcmp(sha, "256") != 0 && strcmp(sha, "384") != 0 && strcmp(sha, "512") != 0) {
        return usage_error(cmd, "--sha is auto, 256, 384 or 512");
    }
    if (strlen(suffix) > 64) {
        return usage_error(cmd, "--name-suffix is too long");
    }
    char err[256];
    struct tbk_key *k = tbk_load(path, err, sizeof(err));
    if (k == NULL) {
        fprintf(stderr, "twinboot image %s: %s\n", cmd, err);
        return TB_EXIT_FAIL;
    }
    uint8_t *der = NULL;
    size_t len = 0;
    uint8_t h[64];
    int rc = TB_EXIT_FAIL;
    FILE *out = stdout;
    int alg = strcmp(sha, "384") == 0 ? TB_HASH_SHA384
              : strcmp(sha, "512") == 0 ? TB_HASH_SHA512
              : strcmp(sha, "auto") == 0 && tbk_type(k) == TB_KEY_ECDSA_P384 ? TB_HASH_SHA384
                                                                            : TB_HASH_SHA256;
    if (tbk_pub_der(k, &der, &len) != 0) {
        fprintf(stderr, "twinboot image %s: cannot encode the public key\n", cmd);
        goto done;
    }
    if (hash && key_hash(der, len, alg, h) != 0) {
        fprintf(stderr, "twinboot image %s: hashing failed\n", cmd);
        goto done;
    }
    if (outp != NULL && (out = fopen(outp, strcmp(enc, "raw") == 0 ? "wb" : "w")) == NULL) {
        fprintf(stderr, "twinboot image %s: cannot create %s\n", cmd, outp);
        goto done;
    }
    char name[160], len_name[192];
    snprintf(name, sizeof(name), "%s_pub_key%s%s", c_name(tbk_type(k)), hash ? "_hash" : "", suffix);
    snprintf(len_name, sizeof(len_name), "%s_len", name);
    const uint8_t *d = hash ? h : der;
    size_t n = hash ? tb_hash_len(alg) : len;
    if (strcmp(enc, "lang-c") == 0) {
        print_c_array(out, name, len_name, d, n);
    } else if (strcmp(enc, "lang-rust") == 0) {
        for (char *p = name; *p; p++) {
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        }
        print_rust_array(out, name, d, n);
    } else if (strcmp(enc, "pem") == 0) {
        if (tbk_write_pub_pem(k, out) != 0) {
            fprintf(stderr, "twinboot image %s: cannot write PEM\n", cmd);
            goto done;
        }
    } else if (fwrite(d, 1, n, out) != n) {
        fprintf(stderr, "twinboot image %s: write failed\n", cmd);
        goto done;
    }
    rc = TB_EXIT_OK;
done:
    if (out != stdout && out != NULL && fclose(out) != 0) {
        rc = TB_EXIT_FAIL;
    }
    free(der);
    tbk_free(k);
    return rc;
}

/* ---- getpriv / keyinfo ------------------------------------------------ */

static int cmd_getpriv(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"minimal", no_argument, NULL, 'm'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = NULL, *fmt = "pkcs8";
    bool minimal = false;
    int c;
    while ((c = getopt_long(argc, argv, "k:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': path = optarg; break;
        case 'f': fmt = optarg; break;
        case 'm': minimal = true; break;
        case 'h':
            printf("usage: twinboot image getpriv -k KEY.pem [-f pkcs8|openssl]\n\n"
                   "Print the private key's DER as a C array (enc_priv_key), as imgtool getpriv.\n"
                   "For images encrypted to this key: twinboot itself decrypts none.\n\n"
                   "  -k, --key FILE       private PEM key (asks for its password if it has one)\n"
                   "  -f, --format F       pkcs8 (default) or openssl (SEC1 / PKCS#1; not ed25519)\n");
            return TB_EXIT_OK;
        default: return usage_error("getpriv", "unknown option");
        }
    }
    if (path == NULL || optind != argc) {
        return usage_error("getpriv", "needs -k KEY.pem");
    }
    if (strcmp(fmt, "pkcs8") != 0 && strcmp(fmt, "openssl") != 0) {
        return usage_error("getpriv", "--format is pkcs8 or openssl");
    }
    if (minimal) {
        fprintf(stderr, "twinboot image getpriv: unsupported: --minimal\n");
        return TB_EXIT_FAIL;
    }
    char err[256];
    struct tbk_key *k = tbk_load(path, err, sizeof(err));
    if (k == NULL) {
        fprintf(stderr, "twinboot image getpriv: %s\n", err);
        return TB_EXIT_FAIL;
    }
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = TB_EXIT_FAIL;
    if (!tbk_is_private(k)) {
        fprintf(stderr, "twinboot image getpriv: %s is a public key\n", path);
    } else if (tbk_priv_der(k, strcmp(fmt, "openssl") == 0, &der, &len) != 0) {
        fprintf(stderr, "twinboot image getpriv: unsupported: format %s for %s keys\n", fmt, tbk_type_name(tbk_type(k)));
    } else {
        print_c_array(stdout, "enc_priv_key", "enc_priv_key_len", der, len);
        memset(der, 0, len);
        rc = TB_EXIT_OK;
    }
    free(der);
    tbk_free(k);
    return rc;
}

static int cmd_keyinfo(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: twinboot image keyinfo [-k] KEY.pem\n\n"
               "Print a key's type and size, whether it is private and password-protected,\n"
               "and the KEYHASH values images signed with it carry (per hash algorithm).\n");
        return TB_EXIT_OK;
    }
    const char *path = argc == 2 ? argv[1] : argc == 3 && strcmp(argv[1], "-k") == 0 ? argv[2] : NULL;
    if (path == NULL || path[0] == '-') {
        return usage_error("keyinfo", "needs one KEY.pem");
    }
    char err[256];
    struct tbk_key *k = tbk_load(path, err, sizeof(err));
    if (k == NULL) {
        fprintf(stderr, "twinboot image keyinfo: %s\n", err);
        return TB_EXIT_FAIL;
    }
    uint8_t *der = NULL;
    size_t len = 0;
    int rc = TB_EXIT_FAIL;
    if (tbk_pub_der(k, &der, &len) == 0) {
        int t = tbk_type(k);
        printf("Key type: %s\nKey size: %d bits\nPrivate: %s\nPassword-protected: %s\nPublic key DER: %zu bytes\n",
               tbk_type_name(t), tbk_bits(k), tbk_is_private(k) ? "yes" : "no (public key)",
               tbk_was_encrypted(k) ? "yes" : "no", len);
        /* the hashes an image may use with this key (image.py ALLOWED_KEY_SHA) */
        int algs[2] = {t == TB_KEY_ECDSA_P384 ? TB_HASH_SHA384 : TB_HASH_SHA256, t == TB_KEY_ED25519 ? TB_HASH_SHA512 : 0};
        rc = TB_EXIT_OK;
        for (int i = 0; i < 2 && algs[i] != 0; i++) {
            uint8_t h[64];
            char hex[129];
            if (key_hash(der, len, algs[i], h) != 0) {
                rc = TB_EXIT_FAIL;
                break;
            }
            cli_hex(h, tb_hash_len(algs[i]), hex);
            printf("KEYHASH (SHA-%d): %s\n", algs[i] == TB_HASH_SHA384 ? 384 : algs[i] == TB_HASH_SHA512 ? 512 : 256, hex);
        }
    }
    free(der);
    tbk_free(k);
    return rc;
}

/* ---- sign ------------------------------------------------------------ */

static const char sign_help[] =
    "usage: twinboot image sign [options] INFILE OUTFILE\n"
    "\n"
    "Make an MCUboot image from an application binary (or Intel HEX), as\n"
    "imgtool sign does; OUTFILE ending in .hex is written as Intel HEX.\n"
    "\n"
    "  -k, --key FILE              private key (omit for an unsigned, hash-only image)\n"
    "  -v, --version VER           image version, MAJOR.MINOR.REVISION+BUILD (required)\n"
    "  -H, --header-size N         header room at the start of the image (required)\n"
    "      --pad-header            prepend the header room (input has none)\n"
    "  -S, --slot-size N           slot size (required)\n"
    "      --pad                   pad to the slot size and add the trailer magic\n"
    "      --confirm               mark the image confirmed (image_ok; implies --pad)\n"
    "      --test                  same as --pad: a test upgrade once written to a secondary slot\n"
    "      --align N               flash write size: 1, 2, 4, 8, 16, 32 (default 1)\n"
    "      --max-align N           trailer alignment, 8/16/32 (default max(8, align))\n"
    "  -M, --max-sectors N         sectors in a slot, for the trailer size (default 128)\n"
    "  -s, --security-counter N    add a SEC_CNT TLV; 'auto' derives it from the version\n"
    "  -d, --dependencies DEPS     \"(IMAGE,VERSION), ...\": minimum versions of other images\n"
    "      --public-key-format F   hash (KEYHASH TLV, default) or full (PUBKEY TLV)\n"
    "      --overwrite-only        trailer for an overwrite-only bootloader\n"
    "      --non-bootable          mark the image non-bootable\n"
    "  -F, --rom-fixed ADDR        flash address the image is built for (ROM_FIXED, load_addr)\n"
    "  -L, --load-addr ADDR        RAM_LOAD image loaded at ADDR\n"
    "  -x, --hex-addr ADDR         base address of the Intel HEX output\n"
    "  -R, --erased-val V          value of erased flash, 0 or 0xff (default 0xff)\n"
    "      --sha auto|256|384|512  hash TLV; auto: the key's (384 for ecdsa-p384, else 256);\n"
    "                              ed25519 allows 512\n"
    "      --pure                  ed25519 signature over the image itself (SIG_PURE, SHA-512)\n"
    "      --pad-sig               pad ECDSA signatures with zeros to a fixed length (72 / 103)\n"
    "      --custom-tlv TAG VALUE  protected TLV TAG (0xa0..0xfffe); VALUE 0x<hex> or a string\n"
    "      --boot-record SW_TYPE   CBOR boot record TLV (measured boot), SW_TYPE <= 12 chars\n"
    "      --vid VID, --cid CID    UUID_VID / UUID_CID TLVs: a UUID, or a name (UUIDv5)\n"
    "\n"
    "external signing (a key in an HSM):\n"
    "      --vector-to-sign payload|digest  write what must be signed to OUTFILE, not an image\n"
    "      --fix-sig FILE          the signature (base64, as imgtool) to put in the image\n"
    "      --fix-sig-pubkey FILE   its public key (key hash TLV, signature type)\n"
    "      --sig-out FILE          also write the image's signature there (base64)\n"
    "\n"
    "Not supported (refused with \"unsupported: ...\"): -E/--encrypt, --encrypt-keylen, -c/--clear,\n"
    "--save-enctlv, -e big, --key-backend other than local_file.\n";

enum {
    OPT_PAD_HEADER = 256, OPT_PAD, OPT_CONFIRM, OPT_TEST, OPT_ALIGN, OPT_MAX_ALIGN, OPT_PKFMT,
    OPT_OVERWRITE, OPT_NONBOOT, OPT_SHA, OPT_PURE, OPT_PAD_SIG, OPT_CUSTOM_TLV, OPT_BOOT_RECORD,
    OPT_VID, OPT_CID, OPT_VECTOR, OPT_FIX_SIG, OPT_FIX_SIG_PUB, OPT_SIG_OUT, OPT_UNSUPPORTED_ARG,
    OPT_UNSUPPORTED_FLAG, OPT_KEY_BACKEND,
};

/* --custom-tlv TAG VALUE, as imgtool checks it. 0, or -1 with a message. */
static int parse_custom_tlv(const char *tag_s, const char *val, struct tb_sign_opts *o, uint8_t *store,
                            size_t *used, size_t room, char *err, size_t errlen)
{
    uint32_t tag;
    if (cli_parse_u32(tag_s, &tag) != 0 || tag < TB_TLV_VENDOR_MIN || tag > TB_TLV_VENDOR_MAX) {
        snprintf(err, errlen, "--custom-tlv: tag '%s' is not in 0x%04x..0x%04x", tag_s, TB_TLV_VENDOR_MIN,
                 TB_TLV_VENDOR_MAX);
        return -1;
    }
    for (size_t i = 0; i < o->ncustom; i++) {
        if (o->custom[i].tag == tag) {
            snprintf(err, errlen, "Custom TLV 0x%x already exists.", (unsigned)tag);
            return -1;
        }
    }
    if (o->ncustom >= TB_SIGN_MAX_CUSTOM) {
        snprintf(err, errlen, "at most %d --custom-tlv", TB_SIGN_MAX_CUSTOM);
        return -1;
    }
    size_t n;
    uint8_t *d = store + *used;
    if (strncmp(val, "0x", 2) == 0) {
        const char *h = val + 2;
        if (strlen(h) % 2 != 0) {
            snprintf(err, errlen, "Custom TLV length is odd.");
            return -1;
        }
        n = strlen(h) / 2;
        if (*used + n > room) {
            snprintf(err, errlen, "--custom-tlv values too long");
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned v;
            if (sscanf(h + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char)h[2 * i]) ||
                !isxdigit((unsigned char)h[2 * i + 1])) {
                snprintf(err, errlen, "--custom-tlv: '%s' is not hex", val);
                return -1;
            }
            d[i] = (uint8_t)v;
        }
    } else {
        n = strlen(val);
        if (*used + n > room) {
            snprintf(err, errlen, "--custom-tlv values too long");
            return -1;
        }
        memcpy(d, val, n);
    }
    o->custom[o->ncustom++] = (struct tb_custom_tlv){(uint16_t)tag, (uint16_t)n, d};
    *used += n;
    return 0;
}

/* imgtool's --fix-sig file: the signature in base64. */
static int read_base64_sig(const char *path, uint8_t *sig, size_t room, size_t *len, char *err, size_t errlen)
{
    struct tb_blob b;
    if (tb_read_file(path, &b, err, errlen) != 0) {
        return -1;
    }
    /* EVP_DecodeBlock wants no whitespace and counts '=' padding as zero bytes */
    char *t = malloc(b.len + 1);
    size_t n = 0, pad = 0;
    int rc = -1;
    if (t != NULL) {
        for (size_t i = 0; i < b.len; i++) {
            if (!isspace(b.data[i])) {
                t[n++] = (char)b.data[i];
            }
        }
        t[n] = '\0';
        pad = n >= 1 && t[n - 1] == '=' ? (n >= 2 && t[n - 2] == '=' ? 2 : 1) : 0;
        if (n % 4 == 0 && n > 0 && n / 4 * 3 <= room) {
            int m = EVP_DecodeBlock(sig, (const unsigned char *)t, (int)n);
            if (m >= 0 && (size_t)m >= pad) {
                *len = (size_t)m - pad;
                rc = 0;
            }
        }
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: not a base64 signature", path);
    }
    free(t);
    tb_blob_free(&b);
    return rc;
}

static int write_base64_sig(const char *path, const uint8_t *sig, size_t len, char *err, size_t errlen)
{
    unsigned char b64[1024];
    if (len > 512) {
        snprintf(err, errlen, "signature too long");
        return -1;
    }
    int n = EVP_EncodeBlock(b64, sig, (int)len);
    return tb_write_file(path, b64, (size_t)n, err, errlen);
}

static int cmd_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},
        {"version", required_argument, NULL, 'v'},
        {"header-size", required_argument, NULL, 'H'},
        {"pad-header", no_argument, NULL, OPT_PAD_HEADER},
        {"slot-size", required_argument, NULL, 'S'},
        {"pad", no_argument, NULL, OPT_PAD},
        {"confirm", no_argument, NULL, OPT_CONFIRM},
        {"test", no_argument, NULL, OPT_TEST},
        {"align", required_argument, NULL, OPT_ALIGN},
        {"max-align", required_argument, NULL, OPT_MAX_ALIGN},
        {"max-sectors", required_argument, NULL, 'M'},
        {"security-counter", required_argument, NULL, 's'},
        {"dependencies", required_argument, NULL, 'd'},
        {"public-key-format", required_argument, NULL, OPT_PKFMT},
        {"overwrite-only", no_argument, NULL, OPT_OVERWRITE},
        {"non-bootable", no_argument, NULL, OPT_NONBOOT},
        {"rom-fixed", required_argument, NULL, 'F'},
        {"pure", no_argument, NULL, OPT_PURE},
        {"pad-sig", no_argument, NULL, OPT_PAD_SIG},
        {"custom-tlv", required_argument, NULL, OPT_CUSTOM_TLV},
        {"boot-record", required_argument, NULL, OPT_BOOT_RECORD},
        {"vid", required_argument, NULL, OPT_VID},
        {"cid", required_argument, NULL, OPT_CID},
        {"vector-to-sign", required_argument, NULL, OPT_VECTOR},
        {"fix-sig", required_argument, NULL, OPT_FIX_SIG},
        {"fix-sig-pubkey", required_argument, NULL, OPT_FIX_SIG_PUB},
        {"sig-out", required_argument, NULL, OPT_SIG_OUT},
        {"encrypt", required_argument, NULL, 'E'},
        {"encrypt-keylen", required_argument, NULL, OPT_UNSUPPORTED_ARG},
        {"clear", no_argument, NULL, 'c'},
        {"save-enctlv", no_argument, NULL, OPT_UNSUPPORTED_FLAG},
        {"endian", required_argument, NULL, 'e'},
        {"key-backend", required_argument, NULL, OPT_KEY_BACKEND},
        {"load-addr", required_argument, NULL, 'L'},
        {"hex-addr", required_argument, NULL, 'x'},
        {"erased-val", required_argument, NULL, 'R'},
        {"sha", required_argument, NULL, OPT_SHA},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct tb_sign_opts o;
    const char *keyp = NULL, *sec = NULL, *fix_sig = NULL, *fix_pub = NULL, *sig_out = NULL, *vid = NULL,
               *cid = NULL;
    bool have_version = false, have_hdr = false;
    uint32_t hex_addr = 0, v;
    uint8_t custom_store[4096];
    size_t custom_used = 0;
    char err[512];
    int c;
    tb_sign_opts_default(&o);
    while ((c = getopt_long(argc, argv, "k:v:H:S:M:s:d:L:x:R:F:E:ce:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': keyp = optarg; break;
        case 'v':
            if (tb_parse_version(optarg, &o.version) != 0) {
                return usage_error("sign", "bad --version (MAJOR.MINOR.REVISION+BUILD)");
            }
            have_version = true;
            break;
        case 'H':
            if (cli_parse_u32(optarg, &o.header_size) != 0) {
                return usage_error("sign", "bad --header-size");
            }
            have_hdr = true;
            break;
        case OPT_PAD_HEADER: o.pad_header = true; break;
        case 'S':
            if (cli_parse_u32(optarg, &o.slot_size) != 0) {
                return usage_error("sign", "bad --slot-size");
            }
            break;
        case OPT_PAD:
        case OPT_TEST: o.pad = true; break;
        case OPT_CONFIRM: o.confirm = true; break;
        case OPT_ALIGN:
            if (cli_parse_u32(optarg, &o.align) != 0) {
                return usage_error("sign", "bad --align");
            }
            break;
        case OPT_MAX_ALIGN:
            if (cli_parse_u32(optarg, &o.max_align) != 0) {
                return usage_error("sign", "bad --max-align");
            }
            break;
        case 'M':
            if (cli_parse_u32(optarg, &o.max_sectors) != 0) {
                return usage_error("sign", "bad --max-sectors");
            }
            break;
        case 's': sec = optarg; break;
        case 'd': {
            int n = tb_parse_dependencies(optarg, o.deps, TB_IMAGE_MAX_DEPS);
            if (n < 0) {
                return usage_error("sign", "bad --dependencies, expected \"(IMAGE,VERSION), ...\"");
            }
            o.ndeps = (size_t)n;
            break;
        }
        case OPT_PKFMT:
            if (strcmp(optarg, "full") == 0) {
                o.pubkey_full = true;
            } else if (strcmp(optarg, "hash") != 0) {
                return usage_error("sign", "--public-key-format is hash or full");
            }
            break;
        case OPT_OVERWRITE: o.overwrite_only = true; break;
        case OPT_NONBOOT: o.non_bootable = true; break;
        case 'F':
            if (cli_parse_u32(optarg, &o.rom_fixed) != 0) {
                return usage_error("sign", "bad --rom-fixed (an address, as imgtool's -F)");
            }
            o.has_rom_fixed = true;
            break;
        case 'L':
            if (cli_parse_u32(optarg, &o.load_addr) != 0) {
                return usage_error("sign", "bad --load-addr");
            }
            o.has_load_addr = true;
            break;
        case 'x':
            if (cli_parse_u32(optarg, &hex_addr) != 0) {
                return usage_error("sign", "bad --hex-addr");
            }
            break;
        case 'R':
            if (cli_parse_u32(optarg, &v) != 0 || (v != 0 && v != 0xff)) {
                return usage_error("sign", "--erased-val is 0 or 0xff");
            }
            o.erased_val = (uint8_t)v;
            break;
        case OPT_SHA:
            if (strcmp(optarg, "auto") == 0) {
                o.sha = 0;
            } else if (cli_parse_u32(optarg, &v) != 0 || (v != 256 && v != 384 && v != 512)) {
                return usage_error("sign", "--sha is auto, 256, 384 or 512");
            } else {
                o.sha = (int)v;
            }
            break;
        case OPT_PURE: o.pure = true; break;
        case OPT_PAD_SIG: o.pad_sig = true; break;
        case OPT_CUSTOM_TLV:
            /* two values, as imgtool's click nargs=2: the tag here, the value next */
            if (optind >= argc) {
                return usage_error("sign", "--custom-tlv needs TAG and VALUE");
            }
            if (parse_custom_tlv(optarg, argv[optind], &o, custom_store, &custom_used, sizeof(custom_store), err,
                                 sizeof(err)) != 0) {
                return usage_error("sign", err);
            }
            optind++;
            break;
        case OPT_BOOT_RECORD: o.boot_record = optarg; break;
        case OPT_VID: vid = optarg; break;
        case OPT_CID: cid = optarg; break;
        case OPT_VECTOR:
            if (strcmp(optarg, "payload") == 0) {
                o.vector_to_sign = TB_VECTOR_PAYLOAD;
            } else if (strcmp(optarg, "digest") == 0) {
                o.vector_to_sign = TB_VECTOR_DIGEST;
            } else {
                return usage_error("sign", "--vector-to-sign is payload or digest");
            }
            break;
        case OPT_FIX_SIG: fix_sig = optarg; break;
        case OPT_FIX_SIG_PUB: fix_pub = optarg; break;
        case OPT_SIG_OUT: sig_out = optarg; break;
        case 'E':
        case 'c':
        case OPT_UNSUPPORTED_ARG:
        case OPT_UNSUPPORTED_FLAG:
            fprintf(stderr, "twinboot image sign: unsupported: encrypted images (-E, --encrypt-keylen, --clear, --save-enctlv)\n");
            return TB_EXIT_FAIL;
        case 'e':
            if (strcmp(optarg, "little") != 0) {
                fprintf(stderr, "twinboot image sign: unsupported: -e %s (the nRF5340 is little-endian)\n", optarg);
                return TB_EXIT_FAIL;
            }
            break;
        case OPT_KEY_BACKEND:
            if (strcmp(optarg, "local_file") != 0) {
                fprintf(stderr, "twinboot image sign: unsupported: --key-backend %s (sign with --vector-to-sign "
                                "and --fix-sig instead)\n",
                        optarg);
                return TB_EXIT_FAIL;
            }
            break;
        case 'h': fputs(sign_help, stdout); return TB_EXIT_OK;
        default: return usage_error("sign", "unknown option");
        }
    }
    if (optind + 2 != argc) {
        return usage_error("sign", "needs INFILE and OUTFILE");
    }
    if (!have_version || !have_hdr || o.slot_size == 0) {
        return usage_error("sign", "--version, --header-size and --slot-size are required");
    }
    if (o.has_rom_fixed && o.has_load_addr) {
        return usage_error("sign", "Can not set rom_fixed and load_addr at the same time");
    }
    if (keyp != NULL && (fix_sig != NULL || fix_pub != NULL)) {
        return usage_error("sign", "Cannot use --key with --fix-sig or --fix-sig-pubkey");
    }
    if (fix_sig != NULL && fix_pub == NULL) {
        return usage_error("sign", "public key of the fixed signature is not specified (--fix-sig-pubkey)");
    }
    if (fix_sig != NULL && o.vector_to_sign != TB_VECTOR_NONE) {
        return usage_error("sign", "--vector-to-sign and --fix-sig are two steps: run sign twice");
    }
    if (fix_pub != NULL && fix_sig == NULL && o.vector_to_sign == TB_VECTOR_NONE) {
        return usage_error("sign", "--fix-sig-pubkey goes with --fix-sig or --vector-to-sign");
    }
    if ((vid != NULL && tb_parse_uuid(vid, NULL, o.vid) != 0) ||
        (cid != NULL && tb_parse_uuid(cid, vid != NULL ? o.vid : NULL, o.cid) != 0)) {
        return usage_error("sign", "bad --vid/--cid (a UUID or a name)");
    }
    o.has_vid = vid != NULL;
    o.has_cid = cid != NULL;
    if (sec != NULL) {
        o.has_sec_cnt = true;
        if (strcmp(sec, "auto") == 0) {
            /* imgtool: major << 24 | minor << 16 | revision */
            o.sec_cnt = ((uint32_t)o.version.major << 24) | ((uint32_t)o.version.minor << 16) |
                        o.version.revision;
        } else if (cli_parse_u32(sec, &o.sec_cnt) != 0) {
            return usage_error("sign", "bad --security-counter (a number or auto)");
        }
    }
    const char *inp = argv[optind], *outp = argv[optind + 1];
    struct tbk_key *key = NULL, *ext = NULL;
    uint8_t fsig[512];
    if (keyp != NULL && (key = tbk_load(keyp, err, sizeof(err))) == NULL) {
        fprintf(stderr, "twinboot image sign: %s\n", err);
        return TB_EXIT_FAIL;
    }
    if (fix_pub != NULL && (ext = tbk_load(fix_pub, err, sizeof(err))) == NULL) {
        fprintf(stderr, "twinboot image sign: %s\n", err);
        tbk_free(key);
        return TB_EXIT_FAIL;
    }
    o.ext_pub = ext;
    if (fix_sig != NULL) {
        if (read_base64_sig(fix_sig, fsig, sizeof(fsig), &o.fix_sig_len, err, sizeof(err)) != 0) {
            fprintf(stderr, "twinboot image sign: %s\n", err);
            tbk_free(key);
            tbk_free(ext);
            return TB_EXIT_FAIL;
        }
        o.fix_sig = fsig;
    }
    struct tb_blob in;
    struct tb_signed s;
    int rc = TB_EXIT_FAIL;
    if (tb_read_file(inp, &in, err, sizeof(err)) != 0) {
        fprintf(stderr, "twinboot image sign: %s\n", err);
        tbk_free(key);
        tbk_free(ext);
        return TB_EXIT_FAIL;
    }
    if (tb_sign_image(&o, key, in.data, in.len, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "twinboot image sign: %s\n", err);
        goto done;
    }
    if (o.vector_to_sign != TB_VECTOR_NONE) {
        /* the vector is raw bytes, whatever OUTFILE's extension */
        if (tb_write_file(outp, s.data, s.len, err, sizeof(err)) != 0) {
            fprintf(stderr, "twinboot image sign: %s\n", err);
        } else {
            rc = TB_EXIT_OK;
        }
        tb_signed_free(&s);
        goto done;
    }
    if (sig_out != NULL && s.sig_len == 0) {
        fprintf(stderr, "twinboot image sign: --sig-out: the image is not signed\n");
        tb_signed_free(&s);
        goto done;
    }
    int wrc;
    if (tb_is_hex_path(outp)) {
        /* As imgtool: the image, then only the trailer fields that are not erased. */
        struct tb_hex_chunk ch[3];
        size_t n = 0;
        uint8_t flag[32];
        ch[n++] = (struct tb_hex_chunk){hex_addr, s.data, s.image_len};
        if (s.has_image_ok) {
            memset(flag, o.erased_val, sizeof(flag));
            flag[0] = TB_FLAG_SET;
            ch[n++] = (struct tb_hex_chunk){hex_addr + s.image_ok_off, flag, s.max_align};
        }
        if (s.len > s.image_len) {
            ch[n++] = (struct tb_hex_chunk){hex_addr + s.magic_off, s.data + s.magic_off, TB_TRAILER_MAGIC_SIZE};
        }
        wrc = tb_write_hex(outp, ch, n, err, sizeof(err));
    } else {
        wrc = tb_write_file(outp, s.data, s.len, err, sizeof(err));
    }
    if (wrc == 0 && sig_out != NULL) {
        wrc = write_base64_sig(sig_out, s.sig, s.sig_len, err, sizeof(err));
    }
    if (wrc != 0) {
        fprintf(stderr, "twinboot image sign: %s\n", err);
    } else {
        rc = TB_EXIT_OK;
    }
    tb_signed_free(&s);
done:
    tb_blob_free(&in);
    tbk_free(key);
    tbk_free(ext);
    return rc;
}

/* ---- dumpinfo -------------------------------------------------------- */

static const char *tlv_name(uint16_t t)
{
    switch (t) {
    case TB_TLV_KEYHASH: return "KEYHASH";
    case TB_TLV_PUBKEY: return "PUBKEY";
    case TB_TLV_SHA256: return "SHA256";
    case TB_TLV_SHA384: return "SHA384";
    case TB_TLV_SHA512: return "SHA512";
    case TB_TLV_RSA2048_PSS: return "RSA2048_PSS";
    case TB_TLV_ECDSA224: return "ECDSA224";
    case TB_TLV_ECDSA_SIG: return "ECDSA_SIG";
    case TB_TLV_RSA3072_PSS: return "RSA3072_PSS";
    case TB_TLV_ED25519: return "ED25519";
    case TB_TLV_SIG_PURE: return "SIG_PURE";
    case TB_TLV_DEPENDENCY: return "DEPENDENCY";
    case TB_TLV_SEC_CNT: return "SEC_CNT";
    case TB_TLV_BOOT_RECORD: return "BOOT_RECORD";
    case TB_TLV_ENC_RSA2048: return "ENC_RSA2048";
    case TB_TLV_ENC_KW: return "ENC_KW";
    case TB_TLV_ENC_EC256: return "ENC_EC256";
    case TB_TLV_ENC_X25519: return "ENC_X25519";
    case TB_TLV_ENC_X25519_SHA512: return "ENC_X25519_SHA512";
    case TB_TLV_UUID_VID: return "UUID_VID";
    case TB_TLV_UUID_CID: return "UUID_CID";
    default: return "?";
    }
}


static const struct {
    uint32_t flag;
    const char *name;
} image_flags[] = {
    {TB_IMAGE_F_PIC, "PIC"},
    {TB_IMAGE_F_ENCRYPTED_AES128, "ENCRYPTED_AES128"},
    {TB_IMAGE_F_ENCRYPTED_AES256, "ENCRYPTED_AES256"},
    {TB_IMAGE_F_NON_BOOTABLE, "NON_BOOTABLE"},
    {TB_IMAGE_F_RAM_LOAD, "RAM_LOAD"},
    {TB_IMAGE_F_ROM_FIXED, "ROM_FIXED"},
    {TB_IMAGE_F_COMPRESSED_LZMA1, "COMPRESSED_LZMA1"},
    {TB_IMAGE_F_COMPRESSED_LZMA2, "COMPRESSED_LZMA2"},
    {TB_IMAGE_F_COMPRESSED_ARM_THUMB, "COMPRESSED_ARM_THUMB"},
};

/* What in this image twinboot does not implement, as "unsupported: ..." (or
 * NULL): asked after validation failed, so that a user reads the real reason
 * and not the format error a feature we do not parse ends in. */
static const char *explain_unsupported(const uint8_t *d, size_t len, const struct tb_keyring *ring, char *buf,
                                       size_t n)
{
    struct tb_flash f;
    struct tb_area a;
    struct tb_image_header h;
    if (tb_memflash_init(&f, &a, d, len) != TB_OK || tb_image_read_header(&a, &h) != TB_OK) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(image_flags) / sizeof(image_flags[0]); i++) {
        if (h.flags & image_flags[i].flag & TB_IMAGE_F_UNSUPPORTED) {
            snprintf(buf, n, "unsupported: %s image (flag 0x%x)", image_flags[i].name, (unsigned)image_flags[i].flag);
            return buf;
        }
    }
    struct tb_tlv_iter it;
    uint16_t type, tlen;
    uint32_t voff;
    bool pure = false, sig_for_ring = false;
    uint16_t other_sig = 0;
    if (tb_tlv_iter_begin(&it, &a, &h, false) != TB_OK) {
        return NULL;
    }
    while (tb_tlv_iter_next(&it, &type, &tlen, &voff, NULL) == 1) {
        switch (type) {
        case TB_TLV_ECDSA224:
        case TB_TLV_RSA3072_PSS:
            snprintf(buf, n, "unsupported: %s signature (TLV 0x%02x)", tlv_name(type), type);
            return buf;
        case TB_TLV_ENC_RSA2048:
        case TB_TLV_ENC_KW:
        case TB_TLV_ENC_EC256:
        case TB_TLV_ENC_X25519:
        case TB_TLV_ENC_X25519_SHA512:
            snprintf(buf, n, "unsupported: encrypted image (%s TLV)", tlv_name(type));
            return buf;
        case TB_TLV_SIG_PURE: pure = tlen == 1 && d[voff] == 1; break;
        case TB_TLV_ECDSA_SIG:
        case TB_TLV_RSA2048_PSS:
        case TB_TLV_ED25519:
            other_sig = type;
            for (size_t i = 0; i < ring->count; i++) {
                uint16_t kt = ring->keys[i].type;
                sig_for_ring = sig_for_ring ||
                               (type == TB_TLV_ECDSA_SIG && (kt == TB_KEY_ECDSA_P256 || kt == TB_KEY_ECDSA_P384)) ||
                               (type == TB_TLV_RSA2048_PSS && kt == TB_KEY_RSA2048) ||
                               (type == TB_TLV_ED25519 && kt == TB_KEY_ED25519);
            }
            break;
        default: break;
        }
    }
    if (pure && other_sig != 0 && other_sig != TB_TLV_ED25519) {
        snprintf(buf, n, "unsupported: pure %s signature (only ed25519 signs pure)", tlv_name(other_sig));
        return buf;
    }
    (void)sig_for_ring;
    return NULL;
}

/* ---- verify ---------------------------------------------------------- */

struct keyset {
    struct tb_key keys[MAX_KEYS];
    uint8_t *der[MAX_KEYS];
    const char *paths[MAX_KEYS];
    size_t n;
};

static void print_ver(const struct tb_image_version *v)
{
    char b[40];
    cli_version_str(v, b, sizeof(b));
    fputs(b, stdout);
}

static void keyset_free(struct keyset *ks)
{
    for (size_t i = 0; i < ks->n; i++) {
        free(ks->der[i]);
    }
    ks->n = 0;
}

static int keyset_add(struct keyset *ks, const char *path, char *err, size_t errlen)
{
    if (ks->n >= MAX_KEYS) {
        snprintf(err, errlen, "at most %d keys", MAX_KEYS);
        return -1;
    }
    struct tbk_key *k = tbk_load(path, err, errlen);
    if (k == NULL) {
        return -1;
    }
    size_t len;
    int rc = tbk_pub_der(k, &ks->der[ks->n], &len);
    if (rc == 0) {
        ks->keys[ks->n] = (struct tb_key){(uint16_t)tbk_type(k), ks->der[ks->n], (uint16_t)len};
        ks->paths[ks->n] = path;
        ks->n++;
    } else {
        snprintf(err, errlen, "%s: cannot encode the public key", path);
    }
    tbk_free(k);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct keyset ks = {0};
    char err[512];
    int c;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (keyset_add(&ks, optarg, err, sizeof(err)) != 0) {
                fprintf(stderr, "twinboot image verify: %s\n", err);
                keyset_free(&ks);
                return TB_EXIT_FAIL;
            }
            break;
        case 'h':
            printf("usage: twinboot image verify [-k KEY.pem ...] FILE\n\n"
                   "Validate an image as the bootloader does: header, TLV structure, hash,\n"
                   "and with -k the signature by one of the given keys (private or public PEM).\n"
                   "Without -k only the hash is checked. Exit 0 only for a valid image.\n");
            return TB_EXIT_OK;
        default: keyset_free(&ks); return usage_error("verify", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        keyset_free(&ks);
        return usage_error("verify", "needs one FILE");
    }
    const char *path = argv[optind];
    struct tb_blob b;
    if (tb_read_file(path, &b, err, sizeof(err)) != 0) {
        fprintf(stderr, "twinboot image verify: %s\n", err);
        keyset_free(&ks);
        return TB_EXIT_FAIL;
    }
    struct tb_flash f;
    struct tb_area a;
    struct tb_image_info info;
    struct tb_keyring ring = {ks.keys, ks.n};
    int rc = tb_memflash_init(&f, &a, b.data, b.len);
    if (rc == TB_OK) {
        rc = tb_image_validate(&a, &ring, &info);
    }
    int exit_code = TB_EXIT_FAIL;
    if (rc == TB_OK) {
        char hex[129];
        cli_hex(info.hash, info.hash_len, hex);
        printf("Image was correctly validated\nImage version: ");
        print_ver(&info.hdr.ver);
        printf("\nImage digest: %s\n", hex);
        if (info.key_index >= 0) {
            printf("Signed by: %s (%s%s)\n", ks.paths[info.key_index], tbk_type_name(ks.keys[info.key_index].type),
                   info.pure ? ", pure: over the image itself" : "");
        } else {
            printf("Signature: not checked (no key given)\n");
        }
        if (tb_image_bootable(&info.hdr) != TB_OK) {
            printf("Note: %s; a bootloader will not boot it\n", tb_strerror(tb_image_bootable(&info.hdr)));
        }
        exit_code = TB_EXIT_OK;
    } else {
        char why[160];
        const char *u = explain_unsupported(b.data, b.len, &ring, why, sizeof(why));
        if (u == NULL && rc == TB_E_UNSUPPORTED) {
            u = info.pure ? "unsupported: this pure signature (ed25519 only, on memory-mapped flash)"
                          : "unsupported: an algorithm this build leaves out";
        }
        fprintf(stderr, "twinboot image verify: %s: %s\n", path, u != NULL ? u : tb_strerror(rc));
        if (rc == TB_E_IMG_UNKNOWN_KEY || rc == TB_E_IMG_NO_SIGNATURE) {
            fprintf(stderr, "hint: pass the key the image was signed with (-k), or check 'twinboot image "
                            "dumpinfo %s'\n",
                    path);
        }
    }
    tb_blob_free(&b);
    keyset_free(&ks);
    return exit_code;
}

/* ---- dumpinfo -------------------------------------------------------- */

static const char *flag_state(uint8_t v)
{
    return v == 0xff ? "unset" : v == TB_FLAG_SET ? "set" : "bad";
}

static void print_flags(FILE *o, uint32_t flags, bool json)
{
    bool first = true;
    for (size_t i = 0; i < sizeof(image_flags) / sizeof(image_flags[0]); i++) {
        if (flags & image_flags[i].flag) {
            fprintf(o, json ? "%s\"%s\"" : "%s%s", first ? "" : json ? ", " : " | ", image_flags[i].name);
            first = false;
        }
    }
}

/* The trailer at the end of a slot-sized file, as imgtool's dumpinfo reads
 * it: magic, then image_ok, copy_done, swap_info and swap_size below it. */
struct trailer_view {
    bool present;      /* the file runs past the image */
    bool magic_good;
    uint32_t max_align;
    uint8_t image_ok, copy_done, swap_info;
    uint32_t swap_size;
    const uint8_t *magic;
};

static void read_trailer(const uint8_t *d, size_t len, size_t image_end, struct trailer_view *t)
{
    uint8_t m[TB_TRAILER_MAGIC_SIZE];
    memset(t, 0, sizeof(*t));
    if (len <= image_end || len < 64) {
        return;
    }
    t->present = true;
    const uint8_t *end = d + len;
    t->magic = end - 16;
    tb_trailer_magic(8, m);
    uint32_t a = 8;
    if (memcmp(end - 16, m, 16) != 0) {
        a = (uint32_t)end[-16] | ((uint32_t)end[-15] << 8);
        tb_trailer_magic(a, m);
        if ((a != 16 && a != 32) || memcmp(end - 16, m, 16) != 0) {
            return;
        }
    }
    struct tb_trailer_layout l;
    if (tb_trailer_layout((uint32_t)len, a, &l) != TB_OK) {
        return;
    }
    t->magic_good = true;
    t->max_align = a;
    t->image_ok = d[l.image_ok_off];
    t->copy_done = d[l.copy_done_off];
    t->swap_info = d[l.swap_info_off];
    const uint8_t *sz = d + l.swap_info_off - a; /* swap_size: one max-align field below swap_info */
    t->swap_size = (uint32_t)sz[0] | (uint32_t)sz[1] << 8 | (uint32_t)sz[2] << 16 | (uint32_t)sz[3] << 24;
}

static void print_hex_json(FILE *o, const uint8_t *v, size_t n)
{
    fputc('"', o);
    for (size_t i = 0; i < n; i++) {
        fprintf(o, "%02x", v[i]);
    }
    fputc('"', o);
}

/* One TLV's value, decoded where the type says how. */
static void print_tlv_value(const uint8_t *v, uint16_t type, uint16_t len)
{
    if (type == TB_TLV_SEC_CNT && len == 4) {
        printf("  %u", (unsigned)(v[0] | v[1] << 8 | v[2] << 16 | (uint32_t)v[3] << 24));
    } else if (type == TB_TLV_DEPENDENCY && len == 12) {
        struct tb_image_version dv;
        tb_image_version_decode(v + 4, &dv);
        printf("  image %u >= ", v[0]);
        print_ver(&dv);
    } else {
        fputs("  ", stdout);
        for (uint16_t i = 0; i < len; i++) {
            printf("%02x", v[i]);
        }
    }
}

static int cmd_dumpinfo(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: twinboot [--json] image dumpinfo FILE\n\n"
               "Print what imgtool dumpinfo prints: the header (flags by name), the\n"
               "protected and unprotected TLV areas (info headers, every TLV's bytes,\n"
               "signatures included), and for a slot-sized file the trailer (magic,\n"
               "image_ok, copy_done, swap_info, swap_size). Reads as far as the image is\n"
               "well formed. --json: the same as imgtool's JSON (header, tlv_area, trailer;\n"
               "bytes as hex strings).\n");
        return TB_EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-') {
        return usage_error("dumpinfo", "needs one FILE");
    }
    char err[512];
    struct tb_blob b;
    if (tb_read_file(argv[1], &b, err, sizeof(err)) != 0) {
        fprintf(stderr, "twinboot image dumpinfo: %s\n", err);
        return TB_EXIT_FAIL;
    }
    struct tb_flash f;
    struct tb_area a;
    struct tb_image_header h;
    int rc = tb_memflash_init(&f, &a, b.data, b.len);
    if (rc == TB_OK) {
        rc = tb_image_read_header(&a, &h);
    }
    if (rc == TB_E_IMG_MAGIC && b.len >= 4 && b.data[0] == 0x96 && b.data[1] == 0xf3 && b.data[2] == 0xb8 &&
        b.data[3] == 0x3d) {
        fprintf(stderr, "twinboot image dumpinfo: %s is a big-endian MCUboot image; the nRF5340 is "
                        "little-endian: sign it without '-e big'\n",
                argv[1]);
        tb_blob_free(&b);
        return TB_EXIT_FAIL;
    }
    if (rc != TB_OK && rc != TB_E_IMG_TOO_LARGE) {
        fprintf(stderr, "twinboot image dumpinfo: %s: %s\n", argv[1], tb_strerror(rc));
        tb_blob_free(&b);
        return TB_EXIT_FAIL;
    }
    bool json = cli_json;
    const char *base = strrchr(argv[1], '/') != NULL ? strrchr(argv[1], '/') + 1 : argv[1];
    char ver[40];
    cli_version_str(&h.ver, ver, sizeof(ver));
    if (json) {
        printf("{\n  \"filename\": \"%s\",\n  \"header\": {\"magic\": %u, \"load_addr\": %u, \"hdr_size\": %u, "
               "\"protected_tlv_size\": %u, \"img_size\": %u, \"flags\": %u, \"flag_names\": [",
               base, (unsigned)h.magic, (unsigned)h.load_addr, h.hdr_size, h.protect_tlv_size, (unsigned)h.img_size,
               (unsigned)h.flags);
        print_flags(stdout, h.flags, true);
        printf("], \"version\": \"%s\"},\n  \"tlv_area\": {", ver);
    } else {
        printf("Image header (offset: 0x0)\n  magic:              0x%08x\n  load_addr:          0x%08x\n"
               "  hdr_size:           0x%x\n  protected_tlv_size: 0x%x\n  img_size:           0x%x (%u)\n"
               "  flags:              0x%08x",
               (unsigned)h.magic, (unsigned)h.load_addr, h.hdr_size, h.protect_tlv_size, (unsigned)h.img_size,
               (unsigned)h.img_size, (unsigned)h.flags);
        if (h.flags != 0) {
            fputs(" (", stdout);
            print_flags(stdout, h.flags, false);
            fputs(")", stdout);
        }
        printf("\n  version:            %s\nPayload (offset: 0x%x): 0x%x bytes\n", ver, h.hdr_size, (unsigned)h.img_size);
    }
    int exit_code = TB_EXIT_OK;
    size_t image_end = 0;
    struct tb_tlv_iter it;
    rc = rc == TB_OK ? tb_tlv_iter_begin(&it, &a, &h, false) : rc;
    if (rc == TB_OK) {
        uint16_t type, len;
        uint32_t voff;
        bool prot;
        int section = -1; /* 0 protected, 1 unprotected: print each area's info header once */
        uint32_t tlv_off = (uint32_t)h.hdr_size + h.img_size;
        /* the unprotected area is announced even when it holds no TLV */
        for (int pass = 0;; pass++) {
            rc = tb_tlv_iter_next(&it, &type, &len, &voff, &prot);
            int want = rc == 1 ? (prot ? 0 : 1) : 1;
            while (section < want) {
                section++;
                if (section == 0 && h.protect_tlv_size == 0) {
                    continue;
                }
                uint32_t off = section == 0 ? tlv_off : tlv_off + h.protect_tlv_size;
                const uint8_t *ih = b.data + off;
                unsigned magic = ih[0] | ih[1] << 8, tot = ih[2] | ih[3] << 8;
                if (json) {
                    printf("%s\"%s\": {\"offset\": %u, \"magic\": %u, \"tlv_tot\": %u}, \"%s\": [",
                           section == 1 && h.protect_tlv_size != 0 ? "], " : "", section == 0 ? "tlv_hdr_prot" : "tlv_hdr",
                           (unsigned)off, magic, tot, section == 0 ? "tlvs_prot" : "tlvs");
                } else {
                    printf("%s (offset: 0x%x): magic 0x%04x, area size 0x%x\n",
                           section == 0 ? "Protected TLV area" : "TLV area", (unsigned)off, magic, tot);
                }
                pass = 0;
            }
            if (rc != 1) {
                break;
            }
            const uint8_t *v = b.data + voff;
            if (json) {
                printf("%s{\"type\": %u, \"type_name\": \"%s\", \"len\": %u, \"data\": ", pass == 0 ? "" : ", ", type,
                       tlv_name(type), len);
                print_hex_json(stdout, v, len);
                printf("}");
            } else {
                printf("  0x%02x %-12s len 0x%02x", type, tlv_name(type), len);
                print_tlv_value(v, type, len);
                printf("\n");
            }
        }
        if (json) {
            printf("]");
        }
        if (rc == 0) {
            image_end = it.end;
            if (!json) {
                printf("image size: %u bytes (header + payload + TLVs)\n", (unsigned)it.end);
            }
        }
    }
    if (json) {
        printf("}%s", rc < 0 ? ",\n  \"error\": " : "");
        if (rc < 0) {
            printf("\"%s\"", tb_strerror(rc));
        }
    }
    if (rc < 0) {
        if (!json) {
            printf("error: %s\n", tb_strerror(rc));
        }
        exit_code = TB_EXIT_FAIL;
    }
    struct trailer_view t;
    read_trailer(b.data, b.len, image_end != 0 ? image_end : b.len, &t);
    if (json) {
        printf(",\n  \"trailer\": {");
        if (t.present) {
            printf("\"magic\": ");
            print_hex_json(stdout, t.magic, 16);
            if (t.magic_good) {
                printf(", \"max_align\": %u, \"image_ok\": %u, \"copy_done\": %u, \"swap_info\": %u, \"swap_size\": %u",
                       (unsigned)t.max_align, t.image_ok, t.copy_done, t.swap_info, (unsigned)t.swap_size);
            }
        }
        printf("}\n}\n");
    } else if (t.present) {
        if (!t.magic_good) {
            bool erased = true;
            for (int i = 0; i < 16; i++) {
                erased = erased && t.magic[i] == 0xff;
            }
            printf("trailer: magic %s (file is %s)\n", erased ? "unset" : "absent",
                   erased ? "padded" : "not padded to a slot");
        } else {
            printf("trailer (max-align %u): magic good, image_ok %s, copy_done %s, swap_info 0x%02x",
                   (unsigned)t.max_align, flag_state(t.image_ok), flag_state(t.copy_done), t.swap_info);
            if (t.swap_info != 0xff) {
                printf(" (image %u, swap type %u)", t.swap_info >> 4, t.swap_info & 0xf);
            }
            if (t.swap_size == 0xffffffffu) {
                printf(", swap_size unknown\n");
            } else {
                printf(", swap_size 0x%x (%u)\n", (unsigned)t.swap_size, (unsigned)t.swap_size);
            }
        }
    }
    tb_blob_free(&b);
    return exit_code;
}

/* ---- dispatch -------------------------------------------------------- */

int cmd_image(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(image_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? TB_EXIT_USAGE : TB_EXIT_OK;
    }
    const char *cmd = argv[1];
    argc--;
    argv++;
    optind = 0; /* glibc: full re-initialisation of getopt for this sub-command */
    if (strcmp(cmd, "keygen") == 0) return cmd_keygen(argc, argv);
    if (strcmp(cmd, "getpub") == 0) return cmd_getpub_common(argc, argv, false);
    if (strcmp(cmd, "getpubhash") == 0) return cmd_getpub_common(argc, argv, true);
    if (strcmp(cmd, "sign") == 0 || strcmp(cmd, "create") == 0) return cmd_sign(argc, argv);
    if (strcmp(cmd, "verify") == 0) return cmd_verify(argc, argv);
    if (strcmp(cmd, "dumpinfo") == 0) return cmd_dumpinfo(argc, argv);
    if (strcmp(cmd, "getpriv") == 0) return cmd_getpriv(argc, argv);
    if (strcmp(cmd, "keyinfo") == 0) return cmd_keyinfo(argc, argv);
    if (strcmp(cmd, "list") == 0 || strcmp(cmd, "upload") == 0 || strcmp(cmd, "test") == 0 ||
        strcmp(cmd, "confirm") == 0 || strcmp(cmd, "erase") == 0) {
        return cmd_mgmt(argc, argv, cli_conn, cli_json);
    }
    fprintf(stderr, "twinboot image: unknown command '%s'\n\n%s", cmd, image_usage);
    return TB_EXIT_USAGE;
}
