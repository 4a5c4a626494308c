// HEARTH_CHECK: aborts on programmer bugs (never on bad input; use Status for that).
#pragma once

namespace hearth::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond);
}  // namespace hearth::internal

#define HEARTH_CHECK(cond, ...)                                                              \
  do {                                                                                       \
    if (__builtin_expect(!(cond), 0))                                                        \
      ::hearth::internal::CheckFailed(__FILE__, __LINE__, #cond __VA_OPT__(, ) __VA_ARGS__); \
  } while (0)

#ifdef NDEBUG
#define HEARTH_DCHECK(cond, ...) \
  do {                           \
  } while (0)
#else
#define HEARTH_DCHECK(cond, ...) HEARTH_CHECK(cond __VA_OPT__(, ) __VA_ARGS__)
#endif
