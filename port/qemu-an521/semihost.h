/* Arm semihosting (the QEMU port's link to the host): console, files, exit.
 * QEMU answers these with -semihosting-config enable=on,target=native. */
#ifndef TB_SEMIHOST_H
#define TB_SEMIHOST_H

#include <stdint.h>

/* Text to the console (":tt", QEMU's stdout). */
void tb_sh_write0(const char *s);
void tb_sh_write(const char *s, uint32_t len);
/* Open a host file: mode is semihosting's (0 "r", 1 "rb", 4 "w", 5 "wb", 2 "r+", 3 "r+b"). Handle, or -1. */
int tb_sh_open(const char *path, uint32_t mode);
int tb_sh_close(int fd);
/* 0 when all len bytes moved, -1 otherwise. */
int tb_sh_read_at(int fd, uint32_t off, void *buf, uint32_t len);
int tb_sh_write_at(int fd, uint32_t off, const void *buf, uint32_t len);
/* The command line given with -semihosting-config arg=...: 0, or -1. */
int tb_sh_cmdline(char *buf, uint32_t size);
/* End the run: QEMU exits with status (SYS_EXIT_EXTENDED). */
void tb_sh_exit(uint32_t status) __attribute__((noreturn));

#endif
