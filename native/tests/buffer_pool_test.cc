// The pool of large buffers (buffer_pool.h): a buffer given back is taken
// again by a request it fits; the pool stays within its bounds; the
// buffers of a burst are freed once requests are small again.
#include "buffer_pool.h"

#include "check.h"

using ja4::BufferPool;
using ja4::PooledBuffer;

namespace {

constexpr size_t MiB = size_t{1} << 20;

void test_reuse() {
  BufferPool pool(2, 64 * MiB);
  PooledBuffer b = pool.take(10 * MiB);
  CHECK(b.data != nullptr);
  CHECK_EQ(b.capacity, 10 * MiB + 10 * MiB / 8);  // an eighth more, for a slightly larger next batch
  const char* p = b.data.get();
  pool.give(std::move(b));
  CHECK_EQ(pool.kept(), size_t{1});
  CHECK_EQ(pool.kept_bytes(), 10 * MiB + 10 * MiB / 8);
  PooledBuffer again = pool.take(11 * MiB);  // fits in the eighth
  CHECK(again.data.get() == p);
  CHECK_EQ(pool.kept(), size_t{0});
  CHECK_EQ(pool.kept_bytes(), size_t{0});
  PooledBuffer bigger = pool.take(12 * MiB);  // does not fit the kept one: a new buffer
  CHECK(bigger.data.get() != p);
  // small requests: a buffer of the least size, used again (not "4x too large")
  PooledBuffer tiny = pool.take(1);
  CHECK_EQ(tiny.capacity, BufferPool::kMinBytes);
  const char* t = tiny.data.get();
  pool.give(std::move(tiny));
  CHECK(pool.take(100).data.get() == t);
}

void test_smallest_fit() {
  BufferPool pool(2, 64 * MiB);
  PooledBuffer small = pool.take(4 * MiB), large = pool.take(8 * MiB);
  const char* s = small.data.get();
  const char* l = large.data.get();
  pool.give(std::move(large));
  pool.give(std::move(small));
  CHECK(pool.take(3 * MiB).data.get() == s);  // the smallest that fits
  CHECK(pool.take(3 * MiB).data.get() == l);  // then the other (not 4x too large)
}

void test_bounds() {
  BufferPool pool(2, 20 * MiB);
  PooledBuffer a = pool.take(4 * MiB), b = pool.take(5 * MiB), c = pool.take(6 * MiB);
  pool.give(std::move(a));
  pool.give(std::move(b));
  pool.give(std::move(c));  // full: the largest replaces the smallest
  CHECK_EQ(pool.kept(), size_t{2});
  CHECK_EQ(pool.kept_bytes(), (5 * MiB + 5 * MiB / 8) + (6 * MiB + 6 * MiB / 8));
  pool.give(pool.take(30 * MiB));  // larger than the pool's bytes: freed
  CHECK_EQ(pool.kept(), size_t{2});
  PooledBuffer d = pool.take(14 * MiB);  // 15.75 MiB: the kept ones make room for it
  pool.give(std::move(d));
  CHECK(pool.kept_bytes() <= 20 * MiB);
  CHECK(pool.kept() >= 1);
  pool.give(PooledBuffer{});  // nothing
  CHECK(pool.kept() <= 2);
}

void test_burst_freed() {
  BufferPool pool(2, 256 * MiB);
  pool.give(pool.take(64 * MiB));
  CHECK_EQ(pool.kept(), size_t{1});
  PooledBuffer small = pool.take(1 * MiB);  // 72 MiB is more than 4x: freed, not used
  CHECK_EQ(small.capacity, 1 * MiB + 1 * MiB / 8);
  CHECK_EQ(pool.kept(), size_t{0});
  CHECK_EQ(pool.kept_bytes(), size_t{0});
}

}  // namespace

int main() {
  test_reuse();
  test_smallest_fit();
  test_bounds();
  test_burst_freed();
  return ja4test::finish("buffer_pool_test");
}
