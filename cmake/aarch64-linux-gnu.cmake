# CMake toolchain file: cross-compile for AArch64 Linux with Debian's cross
# compiler (package g++-aarch64-linux-gnu). Used by scripts/test-aarch64:
#
#   cmake -S . -B build/aarch64 -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DHEARTH_CORE_ONLY=ON
#
# The binaries run under qemu-user: qemu-aarch64 -L /usr/aarch64-linux-gnu <binary>.
# Code generation stays at the armv8-a baseline; the NEON+dotprod kernels get
# their own flags (src/kernels/CMakeLists.txt) and are chosen at run time.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(HEARTH_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${HEARTH_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${HEARTH_CROSS_TRIPLE}-g++)

# Libraries and headers come from the cross sysroot only; programs (build
# tools) from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${HEARTH_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest (and gtest_discover_tests, if ever used) run target binaries through qemu.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/${HEARTH_CROSS_TRIPLE})
