// A minimal assertion harness for the native unit tests (run by ctest).
// Each CHECK prints the failing expression with file:line; main() returns
// the number of failures so ctest reports the test as failed.
#pragma once

#include <cstdio>
#include <string>

namespace ja4test {
/** Resident memory of this process in KiB (/proc/self/statm; 0 when unreadable). */
inline long rss_kb() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * 4;  // 4 KiB pages
}

inline int& failures() {
  static int n = 0;
  return n;
}
inline int& checks() {
  static int n = 0;
  return n;
}
}  // namespace ja4test

#define CHECK(cond)                                                          \
  do {                                                                       \
    ++ja4test::checks();                                                     \
    if (!(cond)) {                                                           \
      ++ja4test::failures();                                                 \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                        \
  } while (0)

#define CHECK_EQ(a, b)                                                       \
  do {                                                                       \
    ++ja4test::checks();                                                     \
    const auto& va_ = (a);                                                   \
    const auto& vb_ = (b);                                                   \
    if (!(va_ == vb_)) {                                                     \
      ++ja4test::failures();                                                 \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s\n  left:  %s\n  right: %s\n", \
                   __FILE__, __LINE__, #a, #b, ja4test::show(va_).c_str(),  \
                   ja4test::show(vb_).c_str());                              \
    }                                                                        \
  } while (0)

namespace ja4test {
inline std::string show(const std::string& s) { return "\"" + s + "\""; }
inline std::string show(const char* s) { return std::string("\"") + s + "\""; }
template <typename T>
std::string show(const T& v) {
  if constexpr (std::is_arithmetic_v<T> || std::is_enum_v<T>)
    return std::to_string(static_cast<long long>(v));
  else
    return "<value>";
}
// Returns the process exit code and prints a summary line.
inline int finish(const char* name) {
  std::printf("%s: %d checks, %d failed\n", name, checks(), failures());
  return failures() == 0 ? 0 : 1;
}
// Reads a whole file relative to the source tree; empty on failure.
std::string read_file(const std::string& path);
}  // namespace ja4test

#include <fstream>
#include <sstream>
#include <type_traits>
inline std::string ja4test::read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace ja4test {
// `line` with the first `from` replaced by `to`. An edit that does not apply
// is a failed check (a refusal test would otherwise pass on the untouched
// marker it returned).
inline std::string edited(const std::string& line, const std::string& from, const std::string& to) {
  size_t at = line.find(from);
  if (at == std::string::npos) {
    ++failures();
    std::fprintf(stderr, "test edit does not apply: %s\n", from.c_str());
    return line;
  }
  std::string s = line;
  s.replace(at, from.size(), to);
  return s;
}
}  // namespace ja4test
