# The LZMA SDK's decoder (LZMA2 + the ARM-Thumb BCJ converter) from Debian's
# `lzma` source package, fetched once at configure time into a cache shared
# with scripts/cross-build.sh (build/cross/src/lzma), then built as tb_lzma.
set(TB_LZMA_SDK_DIR "${CMAKE_SOURCE_DIR}/build/cross/src/lzma" CACHE PATH
    "unpacked Debian lzma source package (LZMA SDK 9.22)")
if(NOT EXISTS "${TB_LZMA_SDK_DIR}/.twinboot-fetched")
  message(STATUS "Fetching the LZMA SDK: apt-get source lzma (private deb-src list)")
  execute_process(
    COMMAND bash "${CMAKE_SOURCE_DIR}/scripts/apt-source.sh" lzma C/Lzma2Dec.c "${TB_LZMA_SDK_DIR}"
    RESULT_VARIABLE tb_lzma_rc)
  if(NOT tb_lzma_rc EQUAL 0)
    message(FATAL_ERROR "could not fetch Debian's lzma source package into ${TB_LZMA_SDK_DIR}")
  endif()
endif()

add_library(tb_lzma STATIC
  ${TB_LZMA_SDK_DIR}/C/LzmaDec.c
  ${TB_LZMA_SDK_DIR}/C/Lzma2Dec.c
  ${TB_LZMA_SDK_DIR}/C/Bra.c
)
target_include_directories(tb_lzma SYSTEM PUBLIC ${TB_LZMA_SDK_DIR}/C)
# third-party code, built as Debian ships it: its warnings are not ours
target_compile_options(tb_lzma PRIVATE -w)
set_target_properties(tb_lzma PROPERTIES POSITION_INDEPENDENT_CODE ON)
