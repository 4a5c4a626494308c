# Tokenizer tests are registered here (one list per owner to avoid edit clashes).
include(${CMAKE_CURRENT_SOURCE_DIR}/tokenizer/unicode_tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_SOURCE_DIR}/tokenizer/tokenizer_tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_SOURCE_DIR}/tokenizer/hf_tests.cmake OPTIONAL)
