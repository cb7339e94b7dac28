/* Whole-file I/O for the host tools: binary files and Intel HEX (imgtool
 * reads and writes .hex by the file's extension, so do we). */
#ifndef TB_TOOLS_FILEIO_H
#define TB_TOOLS_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tb_blob {
    uint8_t *data;
    size_t len;
    uint32_t base; /* load address of data[0] (Intel HEX), 0 for binaries */
};

bool tb_is_hex_path(const char *path);
/* Read a binary or (by extension) Intel HEX file; gaps in HEX read as 0xff.
 * Returns 0, or -1 with a message in err. */
int tb_read_file(const char *path, struct tb_blob *out, char *err, size_t errlen);
int tb_write_file(const char *path, const uint8_t *data, size_t len, char *err, size_t errlen);
/* Write records for each [addr, addr+len) chunk, then the EOF record. */
struct tb_hex_chunk {
    uint32_t addr;
    const uint8_t *data;
    size_t len;
};
int tb_write_hex(const char *path, const struct tb_hex_chunk *chunks, size_t n, char *err,
                 size_t errlen);
void tb_blob_free(struct tb_blob *b);

#endif
