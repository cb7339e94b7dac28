#!/usr/bin/env bash
# One layout file drives the firmware build: the DK bootloaders built from an
# NCS Partition Manager file carry that file's partitions (here a larger app
# partition), and a layout twinboot cannot use stops the build with a reason.
set -u
T="$1"; SRC="$2"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
. "$(dirname "$0")/cli_lib.sh"

# the table the app bootloader links: image 0's primary region, as bytes
primary_of() { # ELF -> "flash off size" of image 0's primary
    local a
    a=$(arm-none-eabi-nm "$1" | awk '$3 == "tb_layout_nrf5340_dk" {print $1}')
    [ -n "$a" ] || return 1
    # struct tb_layout: image_count, max_align, then img[0] {strategy, primary {flash, off, size}, ...}
    arm-none-eabi-objcopy -O binary --only-section=.text "$1" "$W/text.bin"
    local text
    text=$(arm-none-eabi-objdump -h "$1" | awk '$2 == ".text" {print $4}')
    local f o z
    read -r f o z < <(od -An -tx4 -j $((0x$a - 0x$text + 12)) -N 12 "$W/text.bin")
    printf '%d 0x%x 0x%x\n' $((16#$f)) $((16#$o)) $((16#$z))
}

TB_TWINBOOT="$T" TB_FW_DIR="$W/large" TB_LAYOUT="$SRC/tests/layouts/nrf5340dk-large-app.yml" \
    bash "$SRC/scripts/firmware.sh" >"$W/out" 2>&1 && ok || bad "build with the large-app layout: $(tail -5 "$W/out")"
grep -q "firmware: layout from .*nrf5340dk-large-app.yml" "$W/out" && ok || bad "the layout file was not used"
[ "$(primary_of "$W/large/nrf5340dk/twinboot-app.elf")" = "0 0x10000 0xf0000" ] && ok ||
    bad "app bootloader's image 0 primary: $(primary_of "$W/large/nrf5340dk/twinboot-app.elf")"
[ "$(primary_of "$SRC/build/fw/nrf5340dk/twinboot-app.elf")" = "0 0x10000 0xe0000" ] && ok ||
    bad "the default build's image 0 primary: $(primary_of "$SRC/build/fw/nrf5340dk/twinboot-app.elf")"
grep -q "^APP_SLOT_SIZE=0xf0000" <("$W/large/gen/fwlayout") && ok || bad "fwlayout does not see the file's partitions"

# a layout twinboot refuses stops the build, and says where to look
sed 's/^mcuboot_secondary:$/mcuboot_secondary_x:/' "$SRC/tests/layouts/nrf5340dk-partitions.yml" > "$W/bad.yml"
TB_TWINBOOT="$T" TB_FW_DIR="$W/bad" TB_LAYOUT="$W/bad.yml" bash "$SRC/scripts/firmware.sh" >"$W/out" 2>&1
[ $? -ne 0 ] && ok || bad "a refused layout was built"
grep -q "twinboot cannot use this layout" "$W/out" && ok || bad "no reason: $(tail -5 "$W/out")"

echo "fw_layout: $pass passed, $fail failed"
[ $fail -eq 0 ]
