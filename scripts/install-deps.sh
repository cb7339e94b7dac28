#!/usr/bin/env bash
# Install the Debian packages twinboot needs, and only those that are missing.
# Called by `make test` / `make demo`; safe to run again (no-op when complete).
set -euo pipefail

PKGS=(
  cmake make gcc pkg-config          # build
  libcmocka-dev zlib1g-dev           # unit tests (zlib: an independent CRC-32 to check ours)
  libmbedtls-dev libsodium-dev       # device crypto: SHA-2/ECDSA/RSA, Ed25519
  libcbor-dev                        # SMP server: CBOR
  libyaml-dev                        # host tools: NCS Partition Manager layouts
  libssl-dev openssl                 # host tools: key files and signing; independent checks
  clang libclang-rt-14-dev           # libFuzzer targets
  valgrind                           # bench: instruction counts
  gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi dpkg-dev  # Cortex-M33 build
)

missing=()
for p in "${PKGS[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: missing packages and not root: run 'apt-get install ${missing[*]}' as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
