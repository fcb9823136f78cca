// Offline capture reading: a pcap or pcapng file through libpcap, fed into
// an Engine, producing batches of JSON records.
//
// Runs on whichever thread calls read_batch() (the binding uses a libuv
// worker thread); not thread-safe, one caller at a time.
#pragma once

#include <pcap/pcap.h>

#include <memory>
#include <string>

#include "engine.h"
#include "record_json.h"

namespace ja4 {

enum class ReadStatus {
  Batch,      // `out` holds records; more may follow
  End,        // end of file reached; `out` holds the last records
  Error,      // `error_code`/`error_message` describe it; `out` holds what was read before
};

class PcapFileReader {
 public:
  PcapFileReader(std::string path, const EngineConfig& config, RecordJsonOptions json = {});
  ~PcapFileReader();
  PcapFileReader(const PcapFileReader&) = delete;
  PcapFileReader& operator=(const PcapFileReader&) = delete;

  // Opens the file; false with error_code ENOENT/EACCES/EFORMAT/ELINKTYPE/EOPEN.
  bool open();
  // Reads packets until at least `max_records` records are ready or the file
  // ends, appending newline-separated JSON objects to `out`.
  ReadStatus read_batch(size_t max_records, std::string& out);

  const std::string& error_code() const { return error_code_; }
  const std::string& error_message() const { return error_message_; }
  Counters& counters() { return engine_.counters(); }
  int linktype() const { return linktype_; }
  size_t active_flows() const { return engine_.active_flows(); }

 private:
  void drain(std::string& out);
  void fail(const char* code, std::string message);

  std::string path_;
  Engine engine_;
  RecordJsonOptions json_;
  pcap_t* pcap_ = nullptr;
  std::unique_ptr<char[]> stdio_buffer_;  // the FILE's buffer (see open()); freed after pcap_close
  int linktype_ = -1;
  bool finished_ = false;
  size_t batch_bytes_ = 0;  // largest batch of JSON so far (drain reserves it)
  std::string error_code_, error_message_;
};

// Baseline for benchmarks: iterate the file with pcap_next_ex and nothing else.
struct PcapScanResult {
  uint64_t packets = 0, bytes = 0;
  bool ok = false;
  std::string error;
};
PcapScanResult scan_pcap_file(const std::string& path);

}  // namespace ja4
