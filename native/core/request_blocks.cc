#include "request_blocks.h"

#include <cstring>

#include "byte_cursor.h"
#include "native_string.h"

namespace ja4::reqin {

namespace {

uint32_t get_u32(std::string_view s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) | (static_cast<uint32_t>(b[2]) << 16) |
         (static_cast<uint32_t>(b[3]) << 24);
}

// The end of a connection blob's String at blob[at], or 0 past `n` (lengths of at most 5 LEB128 bytes).
size_t string_end(const uint8_t* blob, size_t n, size_t at) { return ja4::string_end(blob, n, at, 5); }

// Where a column's values come from.
enum class Source : uint8_t {
  kCell,        // the record's cell
  kList,        // the record's list cell: Array(String)
  kMap,         // header keys and values: Map(String, String)
  kServerIp,    // Apache's local address, else the connection's
  kServerPort,  // Apache's local port, else the connection's
  kTlsString,   // the connection's String `index`, else '' (tls_version: the record's)
  kSni,         // the connection's SNI, else mod_ssl's
  kJa4x,        // the connection's ja4x items, else none
  kTtl,         // the connection's client TTL, else 0
  kStatus,      // the correlation status
};

struct Column {
  const char* name;
  const char* type;
  Source source;
  int index;  // the Cell, or the TlsEntry string
};

// method .. cookie_names: the request's own columns, in both tables
#define REQUEST_FIELD_COLUMNS                                                 \
  {"method", "String", Source::kCell, kMethod},                               \
      {"scheme", "String", Source::kCell, kScheme},                           \
      {"host", "String", Source::kCell, kHost},                               \
      {"uri", "String", Source::kCell, kUri},                                 \
      {"protocol", "String", Source::kCell, kProto},                          \
      {"status", "UInt16", Source::kCell, kStatus},                           \
      {"bytes_in", "UInt64", Source::kCell, kBytesIn},                        \
      {"bytes_out", "UInt64", Source::kCell, kBytesOut},                      \
      {"header_names", "Array(String)", Source::kList, kHeaderNames},         \
      {"headers", "Map(String, String)", Source::kMap, kHeaderKeys},          \
      {"cookie_names", "Array(String)", Source::kList, kCookies},

// src/correlator/rows-binary.ts INGEST_COLUMNS, in that order
const Column kIngest[] = {
    {"ts", "DateTime64(6, 'UTC')", Source::kCell, kTs},
    {"request_id", "String", Source::kCell, kRequestId},
    {"conn_id", "String", Source::kCell, kConn},
    {"request_seq", "UInt32", Source::kCell, kReqN},
    {"client_ip", "IPv6", Source::kCell, kClientIp},
    {"client_port", "UInt16", Source::kCell, kClientPort},
    {"server_ip", "IPv6", Source::kServerIp, 0},
    {"server_port", "UInt16", Source::kServerPort, 0},
    {"duration_us", "UInt32", Source::kCell, kDuration},
    REQUEST_FIELD_COLUMNS
    {"ja4h", "String", Source::kCell, kJa4h},
    {"tls_version", "String", Source::kTlsString, 0},
    {"tls_cipher", "String", Source::kCell, kTlsCipher},
    {"sni", "String", Source::kSni, 0},
    {"alpn", "String", Source::kTlsString, 1},
    {"ja4", "String", Source::kTlsString, 2},
    {"ja4_r", "String", Source::kTlsString, 3},
    {"ja4_o", "String", Source::kTlsString, 4},
    {"ja3", "String", Source::kTlsString, 5},
    {"ja4s", "String", Source::kTlsString, 6},
    {"ja4t", "String", Source::kTlsString, 7},
    {"ja4ts", "String", Source::kTlsString, 8},
    {"ja4l_c", "String", Source::kTlsString, 9},
    {"ja4l_s", "String", Source::kTlsString, 10},
    {"ja4x", "Array(String)", Source::kJa4x, 0},
    {"client_ttl", "UInt8", Source::kTtl, 0},
    {"correlation_status", "String", Source::kStatus, 0},
    {"truncated", "Bool", Source::kCell, kTruncated},
};

// src/correlator/rows-binary.ts REQUEST_COLUMNS: the record as received
const Column kRequests[] = {
    {"ts", "DateTime64(6, 'UTC')", Source::kCell, kTs},
    {"duration_us", "UInt32", Source::kCell, kDuration},
    {"client_ip", "IPv6", Source::kCell, kClientIp},
    {"client_port", "UInt16", Source::kCell, kClientPort},
    {"local_ip", "IPv6", Source::kCell, kLocalIp},
    {"local_port", "UInt16", Source::kCell, kLocalPort},
    {"conn_id", "String", Source::kCell, kConn},
    {"request_seq", "UInt32", Source::kCell, kReqN},
    {"unique_id", "String", Source::kCell, kUniqueId},
    REQUEST_FIELD_COLUMNS
    {"tls_protocol", "String", Source::kCell, kTlsProtocol},
    {"tls_cipher", "String", Source::kCell, kTlsCipher},
    {"tls_sni", "String", Source::kCell, kTlsSni},
    {"truncated", "Bool", Source::kCell, kTruncated},
};

#undef REQUEST_FIELD_COLUMNS

const char* const kStatusNames[] = {"matched", "no_tls", "tls_not_seen"};

template <size_t N>
std::vector<std::string> names_of(const Column (&cols)[N]) {
  std::vector<std::string> out;
  for (const Column& c : cols) out.emplace_back(c.name);
  return out;
}


// One block appended to o: the header, then each column's data for the
// rows. `entry(i)` is row i's TlsEntry or nullptr, `status(i)` its status.
template <size_t N, class Rec, class Entry, class St>
void write_block(std::string& block, const Column (&cols)[N], size_t n, Rec rec, Entry entry, St status) {
  // room for everything at once: every cell of every record (a superset of
  // the columns), its connection's columns, the offsets and the statuses
  size_t room = 64;
  for (const Column& col : cols) room += std::strlen(col.name) + std::strlen(col.type) + 4;
  for (size_t i = 0; i < n; ++i) {
    const TlsEntry* e = entry(i);
    room += rec(i).cells.size() + (e != nullptr ? e->blob.size() : 0) + 128;
  }
  size_t start = block.size();
  block.resize(start + room);
  ByteCursor o{block.data() + start};
  o.varint(N);
  o.varint(n);
  for (const Column& col : cols) {
    o.string(col.name);
    o.string(col.type);
    switch (col.source) {
      case Source::kCell:
        for (size_t i = 0; i < n; ++i) o.bytes(rec(i).cell(static_cast<Cell>(col.index)));
        break;
      case Source::kList:
      case Source::kMap: {
        uint64_t total = 0;
        for (size_t i = 0; i < n; ++i) {
          total += get_u32(rec(i).cell(static_cast<Cell>(col.index)));
          o.u64(total);
        }
        int last = col.source == Source::kMap ? col.index + 1 : col.index;  // kHeaderKeys, then kHeaderValues
        for (int c = col.index; c <= last; ++c) {
          for (size_t i = 0; i < n; ++i) o.bytes(rec(i).cell(static_cast<Cell>(c)).substr(4));
        }
        break;
      }
      case Source::kServerIp:
        for (size_t i = 0; i < n; ++i) {
          const Record& r = rec(i);
          const TlsEntry* e = entry(i);
          if (r.local_ip_known() || e == nullptr) o.bytes(r.cell(kLocalIp));
          else o.bytes(std::string_view(reinterpret_cast<const char*>(e->server_ip), 16));
        }
        break;
      case Source::kServerPort:
        for (size_t i = 0; i < n; ++i) {
          const Record& r = rec(i);
          const TlsEntry* e = entry(i);
          uint16_t port = r.local_port != 0 || e == nullptr ? static_cast<uint16_t>(r.local_port) : e->server_port;
          o.byte(static_cast<char>(port));
          o.byte(static_cast<char>(port >> 8));
        }
        break;
      case Source::kTlsString:
        for (size_t i = 0; i < n; ++i) {
          const TlsEntry* e = entry(i);
          if (e != nullptr) o.bytes(e->string(col.index));
          else if (col.index == 0) o.bytes(rec(i).cell(kTlsVersion));
          else o.byte('\0');
        }
        break;
      case Source::kSni:
        for (size_t i = 0; i < n; ++i) {
          const TlsEntry* e = entry(i);
          if (e != nullptr && !e->sni_empty()) o.bytes(std::string_view(e->blob).substr(0, e->sni_end));
          else o.bytes(rec(i).cell(kTlsSni));
        }
        break;
      case Source::kJa4x: {
        uint64_t total = 0;
        for (size_t i = 0; i < n; ++i) {
          const TlsEntry* e = entry(i);
          if (e != nullptr) total += e->ja4x_count;
          o.u64(total);
        }
        for (size_t i = 0; i < n; ++i) {
          const TlsEntry* e = entry(i);
          if (e != nullptr) o.bytes(e->ja4x_items());
        }
        break;
      }
      case Source::kTtl:
        for (size_t i = 0; i < n; ++i) {
          const TlsEntry* e = entry(i);
          o.byte(static_cast<char>(e != nullptr ? e->ttl : 0));
        }
        break;
      case Source::kStatus:
        for (size_t i = 0; i < n; ++i) o.string(kStatusNames[status(i)]);
        break;
    }
  }
  block.resize(static_cast<size_t>(o.p - block.data()));
}

}  // namespace

const std::vector<std::string>& RequestStore::ingest_columns() {
  static const std::vector<std::string> names = names_of(kIngest);
  return names;
}

const std::vector<std::string>& RequestStore::request_columns() {
  static const std::vector<std::string> names = names_of(kRequests);
  return names;
}

int32_t RequestStore::slot() {
  if (!free_records_.empty()) {
    int32_t id = free_records_.back();
    free_records_.pop_back();
    return id;
  }
  records_.emplace_back();
  return static_cast<int32_t>(records_.size() - 1);
}

// A new record from `read` into a free slot; the slot goes back when it refuses.
template <class Read>
int32_t RequestStore::keep(Read read) {
  int32_t id = slot();
  if (read(records_[static_cast<size_t>(id)])) return id;
  free_records_.push_back(id);
  return -1;
}

int32_t RequestStore::parse(const char* p, size_t n) {
  return keep([&](Record& r) { return parser_.parse(p, n, r); });
}

int32_t RequestStore::parse_canonical(const char* p, size_t n, std::string_view ja4h) {
  return keep([&](Record& r) { return parser_.parse_canonical(p, n, ja4h, r); });
}

void RequestStore::release(int32_t id) { free_records_.push_back(id); }

int32_t RequestStore::add_tls(const uint8_t* blob, size_t n) {
  TlsEntry e;
  size_t at = string_end(blob, n, 0);
  if (at == 0 || n - at < 16 + 2 + 1 + 4) return -1;
  e.sni_end = static_cast<uint32_t>(at);
  std::memcpy(e.server_ip, blob + at, 16);
  at += 16;
  e.server_port = static_cast<uint16_t>(blob[at] | (blob[at + 1] << 8));
  at += 2;
  e.ttl = blob[at++];
  e.ja4x_count = get_u32(std::string_view(reinterpret_cast<const char*>(blob + at), 4));
  at += 4;
  for (int i = 0; i < TlsEntry::kStrings; ++i) {
    e.strings_at[i] = static_cast<uint32_t>(at);
    at = string_end(blob, n, at);
    if (at == 0) return -1;
  }
  e.strings_at[TlsEntry::kStrings] = static_cast<uint32_t>(at);
  for (uint32_t i = 0; i < e.ja4x_count; ++i) {
    at = string_end(blob, n, at);
    if (at == 0) return -1;
  }
  if (at != n) return -1;
  e.blob.assign(reinterpret_cast<const char*>(blob), n);
  int32_t id;
  if (!free_entries_.empty()) {
    id = free_entries_.back();
    free_entries_.pop_back();
    entries_[static_cast<size_t>(id)] = std::move(e);
  } else {
    entries_.push_back(std::move(e));
    id = static_cast<int32_t>(entries_.size() - 1);
  }
  return id;
}

void RequestStore::release_tls(int32_t id) { retiring_.push_back(id); }

void RequestStore::write_ingest(std::string& out, const int32_t* rec, const int32_t* tls, const uint8_t* status, size_t n) {
  if (n > 0) {
    write_block(
        out, kIngest, n, [&](size_t i) -> const Record& { return records_[static_cast<size_t>(rec[i])]; },
        [&](size_t i) -> const TlsEntry* { return tls[i] < 0 ? nullptr : &entries_[static_cast<size_t>(tls[i])]; },
        [&](size_t i) { return status[i] <= kTlsNotSeen ? status[i] : static_cast<uint8_t>(kTlsNotSeen); });
  }
  for (size_t i = 0; i < n; ++i) free_records_.push_back(rec[i]);
  // the rows of a connection that left were all in this block
  for (int32_t id : retiring_) {
    entries_[static_cast<size_t>(id)].blob = std::string();
    free_entries_.push_back(id);
  }
  retiring_.clear();
}

void RequestStore::write_requests(std::string& out, const int32_t* rec, size_t n) const {
  if (n == 0) return;
  write_block(
      out, kRequests, n, [&](size_t i) -> const Record& { return records_[static_cast<size_t>(rec[i])]; },
      [](size_t) -> const TlsEntry* { return nullptr; }, [](size_t) { return 0; });
}

}  // namespace ja4::reqin
