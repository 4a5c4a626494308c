# Unicode + pre-tokenizer tests (hearth_unicode).
#
# The normalization conformance test reads NormalizationTest.txt, which Debian
# ships compressed; it is unpacked into the build tree at build time.
find_program(HEARTH_BZIP2 bzip2)
set(HEARTH_NORMALIZATION_TEST_BZ2 "${HEARTH_UNICODE_DATA_DIR}/NormalizationTest.txt.bz2")
set(HEARTH_NORMALIZATION_TEST "${PROJECT_BINARY_DIR}/unicode/NormalizationTest.txt")
if(EXISTS "${HEARTH_UNICODE_DATA_DIR}/NormalizationTest.txt")
  set(HEARTH_NORMALIZATION_TEST "${HEARTH_UNICODE_DATA_DIR}/NormalizationTest.txt")
  set(HEARTH_NORMALIZATION_TEST_DEPS)
elseif(HEARTH_BZIP2 AND EXISTS "${HEARTH_NORMALIZATION_TEST_BZ2}")
  add_custom_command(
    OUTPUT ${HEARTH_NORMALIZATION_TEST}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/unicode
    COMMAND sh -c "${HEARTH_BZIP2} -dc '${HEARTH_NORMALIZATION_TEST_BZ2}' > '${HEARTH_NORMALIZATION_TEST}'"
    DEPENDS ${HEARTH_NORMALIZATION_TEST_BZ2}
    COMMENT "Unpacking NormalizationTest.txt"
    VERBATIM)
  set(HEARTH_NORMALIZATION_TEST_DEPS ${HEARTH_NORMALIZATION_TEST})
else()
  set(HEARTH_NORMALIZATION_TEST "")  # the conformance test skips itself
  set(HEARTH_NORMALIZATION_TEST_DEPS)
endif()

hearth_add_test(unicode_test SOURCES tokenizer/unicode_test.cc tokenizer/normalization_test.cc
                LIBS hearth_unicode)
target_compile_definitions(unicode_test PRIVATE
  HEARTH_NORMALIZATION_TEST="${HEARTH_NORMALIZATION_TEST}"
  HEARTH_UNICODE_DATA_DIR="${HEARTH_UNICODE_DATA_DIR}")
if(HEARTH_NORMALIZATION_TEST_DEPS)
  add_custom_target(unicode_test_data DEPENDS ${HEARTH_NORMALIZATION_TEST_DEPS})
  add_dependencies(unicode_test unicode_test_data)
endif()

hearth_add_test(pretokenizer_test SOURCES tokenizer/pretokenizer_test.cc
                tokenizer/pretokenizer_diff_test.cc LIBS hearth_unicode)
target_compile_definitions(pretokenizer_test PRIVATE
  HEARTH_UNICODE_DATA_DIR="${HEARTH_UNICODE_DATA_DIR}")
