# Kernels layer tests (included from tests/CMakeLists.txt).
hearth_add_test(kernels_test
                SOURCES kernels/matmul_test.cc kernels/determinism_test.cc kernels/isa_dispatch_test.cc
                        kernels/matmul_test_util.cc kernels/repack_test.cc
                LIBS hearth_kernels)
hearth_add_test(attention_test SOURCES kernels/attention_test.cc LIBS hearth_kernels)
hearth_add_test(activation_test SOURCES kernels/activation_test.cc LIBS hearth_kernels)
