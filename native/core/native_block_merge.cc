#include "native_block_merge.h"

#include <cstdint>
#include <cstring>
#include <string>

#include "byte_cursor.h"
#include "native_string.h"

namespace ja4::nativeblock {

namespace {

// How a column's data is laid out.
enum class Kind : uint8_t { kFixed, kString, kArray, kMap };

struct Column {
  std::string_view name;
  std::string_view type;
  Kind kind = Kind::kFixed;
  // the data's runs: [start, end) pairs into the body; an array's or a map's
  // first run is its offsets (then its elements: one run, or keys and values)
  size_t runs[6] = {};
  int nruns = 0;
};

struct Block {
  size_t body = 0;  // which body
  uint64_t rows = 0;
  size_t first_column = 0;  // its columns in the shared list
};

// LEB128 values of at most 8 bytes (56 bits: counts and lengths far below;
// the JavaScript merge refused longer ones too)
constexpr int kMaxLeb128 = 8;

// A reader over one body; every method returns false past its end.
struct Reader {
  const unsigned char* b;
  size_t n;
  size_t at = 0;

  bool varint(uint64_t& v) { return read_leb128(b, n, at, v, kMaxLeb128); }
  bool string(std::string_view& s) {
    uint64_t len;
    if (!varint(len) || len > n - at) return false;
    s = std::string_view(reinterpret_cast<const char*>(b + at), static_cast<size_t>(len));
    at += static_cast<size_t>(len);
    return true;
  }
  // past `count` Strings
  bool skip_strings(uint64_t count) {
    for (uint64_t i = 0; i < count; ++i) {
      size_t end = string_end(b, n, at, kMaxLeb128);
      if (end == 0) return false;
      at = end;
    }
    return true;
  }
  bool skip(uint64_t bytes) {
    if (bytes > n - at) return false;
    at += static_cast<size_t>(bytes);
    return true;
  }
  uint64_t u64_at(size_t p) const {
    uint64_t v;
    std::memcpy(&v, b + p, 8);  // little-endian, as x86-64 and aarch64 are
    return v;
  }
  // the last of `rows` UInt64 offsets at `at`: the element count
  bool last_offset(uint64_t rows, uint64_t& count) const {
    if (rows == 0) {
      count = 0;
      return true;
    }
    if (rows > (n - at) / 8) return false;
    count = u64_at(at + static_cast<size_t>(rows - 1) * 8);
    return true;
  }
};

// The width of a fixed-width type, 0 for any other.
size_t fixed_width(std::string_view type) {
  if (type == "UInt8" || type == "Bool") return 1;
  if (type == "UInt16") return 2;
  if (type == "UInt32") return 4;
  if (type == "UInt64" || type == "Int64" || type == "DateTime64(6, 'UTC')") return 8;
  if (type == "IPv6") return 16;
  return 0;
}

// The blocks of body `index`, their columns appended to `columns`.
bool parse_body(std::string_view body, size_t index, std::vector<Block>& blocks, std::vector<Column>& columns) {
  Reader r{reinterpret_cast<const unsigned char*>(body.data()), body.size()};
  while (r.at < r.n) {
    Block block;
    block.body = index;
    block.first_column = columns.size();
    uint64_t ncols;
    // a block without columns has a row count nothing bounds: not one of ours
    if (!r.varint(ncols) || !r.varint(block.rows) || ncols == 0 || ncols > r.n) return false;
    for (uint64_t c = 0; c < ncols; ++c) {
      Column col;
      if (!r.string(col.name) || !r.string(col.type)) return false;
      size_t start = r.at;
      if (size_t width = fixed_width(col.type); width != 0) {
        if (block.rows > (r.n - r.at) / width || !r.skip(block.rows * width)) return false;
        col.runs[0] = start;
        col.runs[1] = r.at;
        col.nruns = 2;
      } else if (col.type == "String") {
        if (!r.skip_strings(block.rows)) return false;
        col.kind = Kind::kString;
        col.runs[0] = start;
        col.runs[1] = r.at;
        col.nruns = 2;
      } else if (col.type == "Array(String)" || col.type == "Map(String, String)") {
        bool map = col.type != "Array(String)";
        uint64_t count;
        if (!r.last_offset(block.rows, count) || !r.skip(block.rows * 8)) return false;
        col.kind = map ? Kind::kMap : Kind::kArray;
        col.runs[0] = start;
        col.runs[1] = r.at;
        col.nruns = 2;
        for (int part = 0; part < (map ? 2 : 1); ++part) {
          size_t from = r.at;
          if (!r.skip_strings(count)) return false;
          col.runs[col.nruns++] = from;
          col.runs[col.nruns++] = r.at;
        }
      } else {
        return false;
      }
      columns.push_back(col);
    }
    blocks.push_back(block);
  }
  return true;
}

}  // namespace

bool merge(const std::vector<std::string_view>& bodies, Merged& out, BufferPool* pool) {
  std::vector<Block> blocks;
  std::vector<Column> columns;
  for (size_t i = 0; i < bodies.size(); ++i) {
    if (!parse_body(bodies[i], i, blocks, columns)) return false;
  }
  if (blocks.size() < 2) return false;
  const size_t ncols = columns.size() / blocks.size();
  uint64_t total = 0;
  for (const Block& b : blocks) {
    // every block has the first one's columns, in its order
    if (b.first_column != (&b - blocks.data()) * ncols) return false;
    for (size_t c = 0; c < ncols; ++c) {
      const Column& x = columns[b.first_column + c];
      const Column& y = columns[c];
      if (x.name != y.name || x.type != y.type) return false;
    }
    total += b.rows;
  }
  if (columns.size() != blocks.size() * ncols) return false;

  // never more than the bodies: the columns' headers are written once
  size_t size = 32;
  for (std::string_view body : bodies) size += body.size();
  PooledBuffer buffer = pool ? pool->take(size) : PooledBuffer{std::unique_ptr<char[]>(new char[size]), size};
  ByteCursor o{buffer.data.get()};
  o.varint(ncols);
  o.varint(total);
  for (size_t c = 0; c < ncols; ++c) {
    const Column& head = columns[c];
    o.string(head.name);
    o.string(head.type);
    for (int run = 0; run < head.nruns; run += 2) {
      uint64_t base = 0;  // elements of the blocks before: array offsets are cumulative per block
      for (const Block& b : blocks) {
        const Column& col = columns[b.first_column + c];
        const char* data = bodies[b.body].data();
        size_t start = col.runs[run], end = col.runs[run + 1];
        if (run == 0 && head.kind != Kind::kFixed && head.kind != Kind::kString) {
          for (size_t p = start; p < end; p += 8) {
            uint64_t v;
            std::memcpy(&v, data + p, 8);
            o.u64(v + base);
          }
          if (b.rows > 0) {
            uint64_t last;
            std::memcpy(&last, data + end - 8, 8);
            base += last;
          }
        } else {
          std::memcpy(o.p, data + start, end - start);
          o.p += end - start;
        }
      }
    }
  }
  out.size = static_cast<size_t>(o.p - buffer.data.get());
  out.capacity = buffer.capacity;
  out.data = std::move(buffer.data);
  return true;
}

}  // namespace ja4::nativeblock
