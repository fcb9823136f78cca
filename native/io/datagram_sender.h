// DatagramSender: non-blocking sends to a UNIX datagram (SOCK_DGRAM) or
// SOCK_SEQPACKET socket, as mod_reqin_log or a capture sensor does. A send
// never waits: when the receiver is absent or behind, the message is
// dropped and counted. Reconnects lazily (at most every 100 ms) after the
// receiver went away. Plain C++17 + POSIX; one thread at a time.
#pragma once

#include <cstdint>
#include <string>

namespace ja4::io {

struct DatagramSenderStats {
  uint64_t sent = 0, bytes = 0, dropped = 0, connects = 0, errors = 0;
};

class DatagramSender {
 public:
  DatagramSender(std::string path, bool seqpacket);
  ~DatagramSender();
  DatagramSender(const DatagramSender&) = delete;
  DatagramSender& operator=(const DatagramSender&) = delete;

  // One message; false when it was dropped (no receiver, receiver behind,
  // too large: errno-style reason in last_error()).
  bool send(const void* data, size_t len);
  void close();
  const DatagramSenderStats& stats() const { return stats_; }
  const std::string& last_error() const { return last_error_; }

 private:
  bool connect_now();

  std::string path_;
  bool seqpacket_;
  int fd_ = -1;
  int64_t retry_at_ms_ = 0;
  DatagramSenderStats stats_;
  std::string last_error_;
};

}  // namespace ja4::io
