/* Arm semihosting calls (the "Semihosting for AArch32 and AArch64" spec):
 * BKPT 0xAB with the operation in r0 and a parameter block in r1. */
#include "semihost.h"

#include <stddef.h>

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_SEEK = 0x0a,
    SYS_GET_CMDLINE = 0x15,
    SYS_EXIT_EXTENDED = 0x20,
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t sh_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static uint32_t cstrlen(const char *s)
{
    uint32_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

void tb_sh_write0(const char *s) { (void)sh_call(SYS_WRITE0, s); }

int tb_sh_open(const char *path, uint32_t mode);

void tb_sh_write(const char *s, uint32_t len)
{
    /* the console is the special file ":tt", opened for writing (mode 4: stdout) */
    static int tt = -1;
    if (tt < 0) {
        tt = tb_sh_open(":tt", 4);
    }
    uint32_t a[3] = {(uint32_t)tt, (uint32_t)(uintptr_t)s, len};
    (void)sh_call(SYS_WRITE, a);
}

int tb_sh_open(const char *path, uint32_t mode)
{
    uint32_t a[3] = {(uint32_t)(uintptr_t)path, mode, cstrlen(path)};
    return (int)sh_call(SYS_OPEN, a);
}

int tb_sh_close(int fd)
{
    uint32_t a[1] = {(uint32_t)fd};
    return sh_call(SYS_CLOSE, a) == 0 ? 0 : -1;
}

static int seek(int fd, uint32_t off)
{
    uint32_t a[2] = {(uint32_t)fd, off};
    return sh_call(SYS_SEEK, a) == 0 ? 0 : -1;
}

int tb_sh_read_at(int fd, uint32_t off, void *buf, uint32_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, len};
    if (seek(fd, off) != 0) {
        return -1;
    }
    return sh_call(SYS_READ, a) == 0 ? 0 : -1; /* returns the bytes NOT read */
}

int tb_sh_write_at(int fd, uint32_t off, const void *buf, uint32_t len)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, len};
    if (seek(fd, off) != 0) {
        return -1;
    }
    return sh_call(SYS_WRITE, a) == 0 ? 0 : -1;
}

int tb_sh_cmdline(char *buf, uint32_t size)
{
    uint32_t a[2] = {(uint32_t)(uintptr_t)buf, size};
    return sh_call(SYS_GET_CMDLINE, a) == 0 ? 0 : -1;
}

void tb_sh_exit(uint32_t status)
{
    uint32_t a[2] = {ADP_STOPPED_APPLICATION_EXIT, status};
    for (;;) {
        (void)sh_call(SYS_EXIT_EXTENDED, a);
    }
}
