// CaptureThread: packets from a live interface (libpcap) or from capture
// files replayed with their timing, fed on one native thread into the same
// Engine as `ja4 pcap`, with the records written as event JSON lines
// (record_json.h: "event":"flow"/"close") and handed out in batches.
//
// Threads: open(), start(), request_stop(), stop(), stats() run on the
// owner's thread (the JS thread in the addon); everything else, the engine
// included, on the capture thread. stats() reads a snapshot the capture
// thread refreshes under a mutex at least every flush interval.
//
// Plain C++17 + libpcap + POSIX; nothing here knows about Node.
#pragma once

#include <pcap/pcap.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine.h"
#include "record_json.h"

namespace ja4::io {

struct CaptureConfig {
  // Live capture (iface non-empty).
  std::string iface;
  std::string bpf;
  int snaplen = 65535;
  int buffer_mb = 64;
  bool promisc = false;
  // Replay (files non-empty): speed 1 = recorded timing, 2 = twice as fast;
  // pps > 0 paces by packet count instead; max = as fast as possible.
  std::vector<std::string> files;
  double speed = 1.0;
  uint64_t pps = 0;
  bool max = false;
  uint32_t loops = 1;

  EngineConfig engine;
  RecordJsonOptions json;
  size_t batch_records = 512;  // a batch is handed out at this many events...
  int flush_ms = 50;           // ...or when the oldest waited this long
};

struct CaptureStats {
  Counters engine;
  size_t active_flows = 0;
  // pcap_stats (live): packets the kernel saw, dropped for lack of buffer
  // space, dropped by the interface/driver.
  uint64_t ps_recv = 0, ps_drop = 0, ps_ifdrop = 0;
  // Replay progress.
  uint64_t replay_packets = 0, replay_bytes = 0;
  uint32_t loop = 0;
  size_t file_index = 0;
  uint64_t file_offset = 0;  // bytes of the current file read so far (progress)
  int64_t started_us = 0, elapsed_us = 0;
  uint64_t events = 0, batches = 0;
  bool finished = false;
};

class CaptureThread {
 public:
  // Capture thread: `data` holds `events` JSON lines; `end` on the last call.
  using BatchFn = std::function<void(std::string& data, uint64_t events, bool end)>;

  explicit CaptureThread(CaptureConfig config);
  ~CaptureThread();
  CaptureThread(const CaptureThread&) = delete;
  CaptureThread& operator=(const CaptureThread&) = delete;

  // Live: opens and activates the interface and its filter. Replay: checks
  // that every file opens as a capture. False with error_code() ENODEV,
  // EPERM, EBPF, ENOENT, EFORMAT, ELINKTYPE or EOPEN.
  bool open();
  void start(BatchFn on_batch, std::function<void()> on_exit = {});
  // Never blocks: the thread flushes the engine (every pending flow is
  // reported, open connections get a close "evicted") and ends.
  void request_stop();
  void stop();
  CaptureStats stats();

  const std::string& error_code() const { return error_code_; }
  const std::string& error_message() const { return error_message_; }

 private:
  void run();
  void run_live();
  void run_replay();
  // Where a replay stands in time, across its files and passes.
  struct ReplayClock {
    int64_t base = 0;           // event time of the segment's first packet
    int64_t first_ts = -1;      // capture time of the segment's first packet
    int64_t start_mono = 0;     // when the segment's first packet was replayed
    int64_t last_ts = -1;       // latest capture time replayed
    int64_t last_out = 0;       // event time of the last packet
    bool new_segment = true;    // the next file starts a segment (a new pass)
    uint64_t packets = 0;       // replayed so far (--pps pacing)
    int64_t pps_start_mono = 0;
  };
  bool replay_file(const std::string& path, ReplayClock& clock);
  void maybe_flush(bool force, bool end = false);
  void snapshot();
  bool stop_requested() const { return stop_.load(std::memory_order_relaxed); }
  bool wait_until(int64_t wall_us);  // false when asked to stop while waiting
  bool fail(const char* code, std::string message);
  static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes);

  CaptureConfig config_;
  Engine engine_;
  pcap_t* live_ = nullptr;
  int linktype_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  BatchFn on_batch_;
  std::function<void()> on_exit_;
  std::string out_;
  uint64_t out_events_ = 0;
  int64_t last_flush_us_ = 0;
  std::mutex mu_;
  CaptureStats snap_;   // guarded by mu_
  CaptureStats work_;   // capture thread's copy
  std::string error_code_, error_message_;
};

}  // namespace ja4::io
