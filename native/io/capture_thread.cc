#include "capture_thread.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <memory>

#include "packet_decoder.h"
#include "savefile.h"

namespace ja4::io {

namespace {

int64_t wall_us() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t mono_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Packets per pcap_dispatch call: bounds the time between stop checks and flushes.
constexpr int kDispatchCount = 4096;

// `buffer` is the FILE's (savefile.h): it must outlive pcap_close.
pcap_t* open_offline(const std::string& path, std::unique_ptr<char[]>& buffer, std::string& code, std::string& message) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    int e = errno;
    code = e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : "EOPEN";
    message = path + ": " + std::strerror(e);
    return nullptr;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  int open_errno = 0;
  pcap_t* p = open_savefile(path, buffer, errbuf, &open_errno);
  if (!p) {
    if (open_errno != 0) {
      code = open_errno == ENOENT ? "ENOENT" : open_errno == EACCES ? "EACCES" : "EOPEN";
      message = errbuf;
    } else {
      code = "EFORMAT";
      message = path + ": not a pcap or pcapng capture (" + errbuf + ")";
    }
    return nullptr;
  }
  if (!linktype_supported(pcap_datalink(p))) {
    code = "ELINKTYPE";
    message = path + ": unsupported link type " + std::to_string(pcap_datalink(p));
    pcap_close(p);
    return nullptr;
  }
  return p;
}

}  // namespace

CaptureThread::CaptureThread(CaptureConfig config) : config_(std::move(config)), engine_(config_.engine) {}

CaptureThread::~CaptureThread() { stop(); }

bool CaptureThread::fail(const char* code, std::string message) {
  error_code_ = code;
  error_message_ = std::move(message);
  if (live_) pcap_close(live_);
  live_ = nullptr;
  return false;
}

bool CaptureThread::open() {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return fail("EOPEN", std::string("eventfd: ") + std::strerror(errno));
  if (!config_.files.empty()) {
    for (const std::string& f : config_.files) {
      // A pipe (ja4 replay <(zcat x.pcap.gz)) can be read once: checking it
      // here would consume its header, so it is checked when replayed.
      struct stat st;
      if (stat(f.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        if (config_.loops > 1)
          return fail("EOPEN", f + ": not a regular file, and --loop reads each file again (write the stream to a file first)");
        continue;
      }
      std::unique_ptr<char[]> buffer;
      pcap_t* p = open_offline(f, buffer, error_code_, error_message_);
      if (!p) return false;
      pcap_close(p);
    }
    return true;
  }
  const std::string& ifc = config_.iface;
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  live_ = pcap_create(ifc.c_str(), errbuf);
  if (!live_) return fail("EOPEN", "interface " + ifc + ": " + errbuf);
  pcap_set_snaplen(live_, config_.snaplen);
  pcap_set_promisc(live_, config_.promisc ? 1 : 0);
  // an int of bytes: the options cap buffer_mb at 2047; beyond, the product
  // overflowed and libpcap silently fell back to its 2 MiB default
  pcap_set_buffer_size(live_, static_cast<int>(std::min<int64_t>(int64_t(config_.buffer_mb) << 20, INT32_MAX)));
  // The read timeout is how long the kernel may hold a partly filled block
  // (TPACKET_V3) before waking us: the latency bound of a quiet link.
  pcap_set_timeout(live_, config_.flush_ms);
  int rc = pcap_activate(live_);
  if (rc < 0) {
    std::string detail = pcap_geterr(live_);
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
      return fail("ENODEV", "interface " + ifc + " does not exist (" + detail + ")");
    if (rc == PCAP_ERROR_PERM_DENIED)
      return fail("EPERM", "capturing on interface " + ifc +
                               " needs the CAP_NET_RAW capability (run as root, or grant it: "
                               "setcap cap_net_raw,cap_net_admin+eip $(command -v node)) (" + detail + ")");
    if (rc == PCAP_ERROR_IFACE_NOT_UP) return fail("ENODEV", "interface " + ifc + " is down");
    return fail("EOPEN", "interface " + ifc + ": " + detail);
  }
  linktype_ = pcap_datalink(live_);
  if (!linktype_supported(linktype_))
    return fail("ELINKTYPE", "interface " + ifc + ": unsupported link type " + std::to_string(linktype_));
  if (!config_.bpf.empty()) {
    bpf_program prog;
    if (pcap_compile(live_, &prog, config_.bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
      return fail("EBPF", "bpf filter \"" + config_.bpf + "\": " + pcap_geterr(live_));
    int set = pcap_setfilter(live_, &prog);
    pcap_freecode(&prog);
    if (set != 0) return fail("EBPF", "bpf filter \"" + config_.bpf + "\": " + pcap_geterr(live_));
  }
  if (pcap_setnonblock(live_, 1, errbuf) != 0) return fail("EOPEN", "interface " + ifc + ": " + errbuf);
  return true;
}

void CaptureThread::start(BatchFn on_batch, std::function<void()> on_exit) {
  on_batch_ = std::move(on_batch);
  on_exit_ = std::move(on_exit);
  work_.started_us = wall_us();
  snap_ = work_;
  thread_ = std::thread([this] {
    // Named so that top -H, perf and the capture benchmark can find it.
    pthread_setname_np(pthread_self(), "ja4-capture");
    run();
    if (on_exit_) on_exit_();
  });
}

void CaptureThread::request_stop() {
  stop_.store(true);
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t w = write(wake_fd_, &one, sizeof one);
    (void)w;
  }
}

void CaptureThread::stop() {
  if (thread_.joinable()) {
    request_stop();
    thread_.join();
  }
  // The thread is gone: its AF_PACKET socket and ring (up to buffer_mb of
  // kernel memory, still receiving) and the eventfd go now, not when the
  // garbage collector gets to the JS wrapper.
  if (live_) pcap_close(live_);
  live_ = nullptr;
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

CaptureStats CaptureThread::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return snap_;
}

// Capture thread.
void CaptureThread::snapshot() {
  work_.engine = engine_.counters();
  work_.active_flows = engine_.active_flows();
  if (live_) {
    pcap_stat ps;
    if (pcap_stats(live_, &ps) == 0) {
      work_.ps_recv = ps.ps_recv;
      work_.ps_drop = ps.ps_drop;
      work_.ps_ifdrop = ps.ps_ifdrop;
    }
  }
  work_.elapsed_us = wall_us() - work_.started_us;
  std::lock_guard<std::mutex> lock(mu_);
  snap_ = work_;
}

// Capture thread: serializes the engine's ready records and hands them out
// when there are enough, when they waited long enough, or at the end.
void CaptureThread::maybe_flush(bool force, bool end) {
  auto& ready = engine_.ready();
  for (const FlowRecord& r : ready) {
    append_record_json(out_, r, config_.json);
    out_.push_back('\n');
  }
  out_events_ += ready.size();
  ready.clear();
  int64_t now = mono_us();
  bool due = now - last_flush_us_ >= int64_t(config_.flush_ms) * 1000;
  if (!force && !end && out_events_ < config_.batch_records && !due) return;
  if (due || force || end) {
    last_flush_us_ = now;
    snapshot();
  }
  if (out_events_ == 0 && !end) return;
  work_.events += out_events_;
  ++work_.batches;
  if (end) {
    work_.finished = true;
    snapshot();
  }
  uint64_t n = out_events_;
  out_events_ = 0;
  on_batch_(out_, n, end);
  out_.clear();
}

// Capture thread.
void CaptureThread::on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  auto* self = reinterpret_cast<CaptureThread*>(user);
  int64_t ts = int64_t(h->ts.tv_sec) * 1000000 + h->ts.tv_usec;
  self->engine_.process(self->linktype_, bytes, h->caplen, ts);
}

// Capture thread.
void CaptureThread::run() {
  last_flush_us_ = mono_us();
  if (live_)
    run_live();
  else
    run_replay();
  engine_.finish();
  maybe_flush(true, true);
}

// Capture thread.
void CaptureThread::run_live() {
  pollfd fds[2] = {{pcap_get_selectable_fd(live_), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  int64_t last_advance = mono_us();
  while (!stop_requested()) {
    int n = poll(fds, 2, config_.flush_ms);
    if (n < 0 && errno != EINTR) break;
    if (fds[1].revents) break;
    // Drain what the kernel holds, a bounded number of packets per call.
    for (;;) {
      int got = pcap_dispatch(live_, kDispatchCount, &CaptureThread::on_packet, reinterpret_cast<u_char*>(this));
      if (got == PCAP_ERROR) {
        // The interface went away or down: end like a stop, with the reason
        // (stats().error), instead of polling a dead descriptor.
        error_code_ = "EREAD";
        error_message_ = "interface " + config_.iface + ": " + pcap_geterr(live_);
        return;
      }
      if (got <= 0) break;
      if (engine_.ready().size() >= config_.batch_records) maybe_flush(true);
      if (stop_requested()) break;
    }
    int64_t now = mono_us();
    if (now - last_advance >= 1000000) {
      // A quiet link still ages its flows (packet time is wall time here).
      engine_.advance(wall_us());
      last_advance = now;
    }
    maybe_flush(false);
  }
}

// Capture thread: sleeps until the wall clock reaches `target` (monotonic
// microseconds), waking early to stop.
bool CaptureThread::wait_until(int64_t target) {
  for (;;) {
    int64_t now = mono_us();
    if (now >= target) return true;
    if (stop_requested()) return false;
    int64_t wait = target - now;
    if (wait > 2000) {
      pollfd pf{wake_fd_, POLLIN, 0};
      // flush what waits while idle between packets
      maybe_flush(false);
      poll(&pf, 1, static_cast<int>(wait / 1000 > 100 ? 100 : wait / 1000));
      continue;
    }
    timespec ts{0, static_cast<long>(wait * 1000)};
    nanosleep(&ts, nullptr);
  }
}

// Capture thread.
void CaptureThread::run_replay() {
  ReplayClock clock;
  clock.pps_start_mono = mono_us();
  for (uint32_t loop = 0; loop < config_.loops && !stop_requested(); ++loop) {
    work_.loop = loop;
    clock.new_segment = true;  // each pass: new connections, 1 s after the last
    if (loop > 0) engine_.end_segment();
    for (size_t i = 0; i < config_.files.size() && !stop_requested(); ++i) {
      work_.file_index = i;
      work_.file_offset = 0;
      if (!replay_file(config_.files[i], clock)) return;
    }
  }
}

// A file whose first packet follows the previous file's last one by no more
// than this continues its timeline (a capture rotated into files by tcpdump
// -C/-G): a flow crossing the boundary keeps its intervals, so its JA4L.
// Anything else (an unrelated capture, a later pass) starts a new segment.
constexpr int64_t kContinuousFilesGapUs = 60 * 1000000LL;

bool CaptureThread::replay_file(const std::string& path, ReplayClock& clock) {
  std::unique_ptr<char[]> buffer;  // outlives p (declared first)
  pcap_t* p = open_offline(path, buffer, error_code_, error_message_);
  if (!p) return false;
  int linktype = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* data;
  uint64_t count = 0;
  bool first_of_file = true;
  int rc = 0;
  while (!stop_requested() && (rc = pcap_next_ex(p, &h, &data)) == 1) {
    int64_t ts = int64_t(h->ts.tv_sec) * 1000000 + h->ts.tv_usec;
    if (first_of_file) {
      first_of_file = false;
      bool continues = !clock.new_segment && clock.first_ts >= 0 && ts >= clock.last_ts &&
                       ts - clock.last_ts <= kContinuousFilesGapUs;
      if (!continues) {
        // Event timestamps: a segment starts at the wall clock, or 1 s after
        // the previous segment's last event, whichever is later, and keeps
        // the recorded intervals unscaled, so JA4L latencies are the
        // capture's own.
        clock.base = clock.first_ts < 0 ? wall_us() : std::max(wall_us(), clock.last_out + 1000000);
        clock.first_ts = ts;
        clock.start_mono = mono_us();
        clock.new_segment = false;
      }
    }
    int64_t offset = ts - clock.first_ts;
    if (offset < 0) offset = 0;  // out-of-order capture timestamps
    if (!config_.max) {
      // --pps: one clock for the whole replay, every file and pass
      int64_t due = config_.pps ? clock.pps_start_mono + int64_t(double(clock.packets) * 1e6 / double(config_.pps))
                                : clock.start_mono + int64_t(double(offset) / config_.speed);
      if (!wait_until(due)) break;
    }
    clock.last_out = clock.base + offset;
    clock.last_ts = std::max(clock.last_ts, ts);
    engine_.process(linktype, data, h->caplen, clock.last_out);
    ++count;
    ++clock.packets;
    ++work_.replay_packets;
    work_.replay_bytes += h->caplen;
    // Progress: ftell may cost a syscall, so only every 256 packets at full
    // speed; a paced replay has the time for it on every packet.
    if (!config_.max || (count & 255) == 0) {
      long off = std::ftell(pcap_file(p));
      if (off >= 0) work_.file_offset = static_cast<uint64_t>(off);
    }
    if (engine_.ready().size() >= config_.batch_records || (count & 1023) == 0) maybe_flush(false);
  }
  if (rc == -1) {
    // A truncated or damaged file: what was read counts; the error is
    // reported at the end (stats().error) and the replay goes on.
    error_code_ = "EREAD";
    error_message_ = path + ": " + pcap_geterr(p) + " after " + std::to_string(count) + " packets";
  }
  pcap_close(p);
  return true;
}

}  // namespace ja4::io
