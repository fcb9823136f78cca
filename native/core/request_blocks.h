// The correlator's parsed requests (reqin_record.h) kept until their rows
// are written, and the Native blocks of ja4_logs.http_logs_ingest and
// ja4_logs.http_requests built from them: the correlator (JavaScript)
// decides which connection each request joined and in what order rows go;
// their bytes never leave C++ until the block is whole.
//
// Native format (https://clickhouse.com/docs/interfaces/formats/Native): a
// block is the column count and the row count (LEB128), then per column its
// name, its type and its data for all rows; Array(T) is the UInt64
// cumulative end offsets of the rows, then all elements as one T column;
// Map(K, V) is Array(Tuple(K, V)): the offsets, all keys, all values.
// src/correlator/native-columns.ts writes the same layout in JavaScript
// for the tls_events table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reqin_record.h"

namespace ja4::reqin {

// A connection's TLS columns, handed over once per connection by the
// JavaScript encoder as one blob: sni (String), the server address (16
// bytes, IPv6 column form), the server port (UInt16), client_ttl (UInt8),
// the ja4x count (UInt32), then tls_version, alpn, ja4, ja4_r, ja4_o, ja3,
// ja4s, ja4t, ja4ts, ja4l_c, ja4l_s and the ja4x items, each a String.
struct TlsEntry {
  static constexpr int kStrings = 11;  // tls_version .. ja4l_s
  std::string blob;
  uint32_t sni_end = 0;                // blob[0, sni_end): sni as a String
  uint32_t strings_at[kStrings + 1] = {};  // String i is blob[strings_at[i], strings_at[i + 1]); ja4x items after the last
  uint8_t server_ip[16] = {};
  uint16_t server_port = 0;
  uint8_t ttl = 0;
  uint32_t ja4x_count = 0;

  std::string_view string(int i) const { return std::string_view(blob).substr(strings_at[i], strings_at[i + 1] - strings_at[i]); }
  std::string_view ja4x_items() const { return std::string_view(blob).substr(strings_at[kStrings]); }
  bool sni_empty() const { return sni_end == 1; }  // a String of length 0 is one byte
};

// One http_logs_ingest row: which record, which connection's TLS columns
// (-1: the handshake was not seen), and the correlation status.
enum Status : uint8_t { kMatched = 0, kNoTls = 1, kTlsNotSeen = 2 };

class RequestStore {
 public:
  // Parses one line into a new record; its id, or -1 when refused.
  int32_t parse(const char* p, size_t n);
  int32_t parse_canonical(const char* p, size_t n, std::string_view ja4h);
  const Record& record(int32_t id) const { return records_[static_cast<size_t>(id)]; }
  // A record that will have no row (dropped by the caller).
  void release(int32_t id);

  // A connection's TLS columns (the blob above); its id, or -1 if malformed.
  int32_t add_tls(const uint8_t* blob, size_t n);
  // The connection is gone: its columns are freed after the next ingest block.
  void release_tls(int32_t id);

  // The ingest block of rows i < n (records rec[i] with entries tls[i],
  // status[i]) appended to out; the records are released.
  void write_ingest(std::string& out, const int32_t* rec, const int32_t* tls, const uint8_t* status, size_t n);
  // The http_requests block of records rec[0..n) appended to out.
  void write_requests(std::string& out, const int32_t* rec, size_t n) const;

  size_t live_records() const { return records_.size() - free_records_.size(); }
  size_t live_tls() const { return entries_.size() - free_entries_.size() - retiring_.size(); }

  // the columns of the two blocks, in the order they are written (the
  // inserts' lists: src/correlator/rows-binary.ts)
  static const std::vector<std::string>& ingest_columns();
  static const std::vector<std::string>& request_columns();

 private:
  int32_t slot();
  template <class Read>
  int32_t keep(Read read);

  RecordParser parser_;
  std::vector<Record> records_;
  std::vector<int32_t> free_records_;
  std::vector<TlsEntry> entries_;
  std::vector<int32_t> free_entries_;
  std::vector<int32_t> retiring_;
};

}  // namespace ja4::reqin
