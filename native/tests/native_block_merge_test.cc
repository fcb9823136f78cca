// The Native block merge (native_block_merge.h): two blocks of every
// column kind the correlator writes made one, byte for byte as a block of
// their rows written at once would be; and what it must leave as it is.
// The engine loading merged blocks is tested from JavaScript
// (test/correlator-rowbinary.test.ts).
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "native_block_merge.h"

using namespace ja4::nativeblock;

namespace {

std::string str(std::string_view s) { return std::string(1, static_cast<char>(s.size())) + std::string(s); }
std::string u16(unsigned v) { return std::string{static_cast<char>(v & 0xff), static_cast<char>(v >> 8)}; }
std::string u64(uint64_t v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}

struct Row {
  unsigned port;
  std::string sni;
  std::vector<std::string> names;
  std::vector<std::pair<std::string, std::string>> headers;
};

// rows as one block: port UInt16, ts DateTime64, ip IPv6, sni String,
// names Array(String), headers Map(String, String)
std::string block(const std::vector<Row>& rows) {
  std::string b{6, static_cast<char>(rows.size())};
  b += str("port") + str("UInt16");
  for (const Row& r : rows) b += u16(r.port);
  b += str("ts") + str("DateTime64(6, 'UTC')");
  for (const Row& r : rows) b += u64(1700000000000000ULL + r.port);
  b += str("ip") + str("IPv6");
  for (const Row& r : rows) b += std::string(15, '\0') + static_cast<char>(r.port & 0xff);
  b += str("sni") + str("String");
  for (const Row& r : rows) b += str(r.sni);
  b += str("names") + str("Array(String)");
  uint64_t n = 0;
  for (const Row& r : rows) b += u64(n += r.names.size());
  for (const Row& r : rows)
    for (const std::string& s : r.names) b += str(s);
  b += str("headers") + str("Map(String, String)");
  n = 0;
  for (const Row& r : rows) b += u64(n += r.headers.size());
  for (const Row& r : rows)
    for (const auto& [k, v] : r.headers) b += str(k);
  for (const Row& r : rows)
    for (const auto& [k, v] : r.headers) b += str(v);
  return b;
}

std::string merged(const std::vector<std::string_view>& bodies) {
  Merged m;
  if (!merge(bodies, m)) return "<not merged>";
  return std::string(m.data.get(), m.size);
}

void test_merge() {
  const Row a{443, "a.example", {"Host", "Accept"}, {{"accept", "*/*"}}};
  const Row b{80, "", {}, {}};
  const Row c{8443, "c.example", {"Host"}, {{"user-agent", "x"}, {"accept", "y"}}};
  const std::string one = block({a, b}), two = block({c});
  CHECK_EQ(merged({one, two}), block({a, b, c}));
  CHECK_EQ(merged({one + two}), block({a, b, c}));  // a body of several blocks
  CHECK_EQ(merged({two, one, two}), block({c, a, b, c}));
  CHECK_EQ(merged({block({}), two}), block({c}));  // an empty block
}

void test_left_as_they_are() {
  const Row a{443, "a.example", {"Host"}, {{"accept", "*/*"}}};
  const std::string one = block({a});
  Merged m;
  CHECK(!merge({one}, m));  // nothing to merge
  CHECK(!merge({}, m));
  CHECK(!merge({one, one.substr(0, one.size() - 1)}, m));  // truncated
  CHECK(!merge({one, one + "\x01"}, m));                    // a block cut after its column count
  std::string renamed = one;
  renamed.replace(renamed.find("sni"), 3, "SNI");
  CHECK(!merge({one, renamed}, m));  // other columns
  std::string retyped = one;
  retyped.replace(retyped.find("UInt16"), 6, "Int16X");
  CHECK(!merge({retyped, retyped}, m));  // a type it does not read
  std::string huge = one;
  huge[1] = '\x7f';  // 127 rows claimed, one there
  CHECK(!merge({huge, one}, m));
  // blocks without columns: nothing bounds their row counts (found by review: the total wrapped)
  CHECK(!merge({std::string("\x00\x02", 2), std::string("\x00\x03", 2)}, m));
  // a row count longer than 8 LEB128 bytes
  CHECK(!merge({std::string("\x06\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10) + one.substr(2), one}, m));
  CHECK(m.data == nullptr);
}

// Into a pool's buffer: the same bytes; a buffer given back is written
// again (what keeps a full-rate batch's pages mapped: buffer_pool.h).
void test_merge_into_pool() {
  const Row a{443, "a.example", {"Host", "Accept"}, {{"accept", "*/*"}}};
  const Row c{8443, "c.example", {"Host"}, {{"user-agent", "x"}}};
  const std::string one = block({a}), two = block({c});
  ja4::BufferPool pool(2, 1 << 20);
  Merged m;
  CHECK(merge({one, two}, m, &pool));
  CHECK_EQ(std::string(m.data.get(), m.size), block({a, c}));
  CHECK(m.capacity >= m.size);
  const char* first = m.data.get();
  pool.give(ja4::PooledBuffer{std::move(m.data), m.capacity});
  CHECK_EQ(pool.kept(), size_t{1});
  Merged again;
  CHECK(merge({two, one}, again, &pool));
  CHECK(again.data.get() == first);
  CHECK_EQ(std::string(again.data.get(), again.size), block({c, a}));
  CHECK_EQ(pool.kept(), size_t{0});
  // refused bodies take nothing from the pool
  pool.give(ja4::PooledBuffer{std::move(again.data), again.capacity});
  Merged none;
  CHECK(!merge({one}, none, &pool));
  CHECK_EQ(pool.kept(), size_t{1});
}

}  // namespace

int main() {
  test_merge();
  test_left_as_they_are();
  test_merge_into_pool();
  std::printf("%d checks, %d failures\n", ja4test::checks(), ja4test::failures());
  return ja4test::failures() == 0 ? 0 : 1;
}
