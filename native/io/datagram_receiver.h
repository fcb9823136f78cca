// DatagramReceiver: a UNIX socket (SOCK_DGRAM or SOCK_SEQPACKET) read on its
// own thread with recvmmsg, handing the caller one buffer per batch of
// datagrams. Plain C++17 + POSIX/Linux; nothing here knows about Node (the
// binding in native/binding/datagram_binding.cc wraps it).
//
// Threads: open(), start(), stop() and the destructor run on the owner's
// thread (the JS thread in the addon); the batch callback runs on the
// receiver thread. Counters are atomics, readable from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace ja4::io {

struct DatagramReceiverConfig {
  std::string path;
  bool seqpacket = false;
  int mode = -1;                      // chmod of the socket file; -1: leave the umask's
  std::string group;                  // chgrp of the socket file; empty: leave it
  size_t max_datagram_bytes = 65536;  // larger datagrams are counted (oversized) and dropped
  size_t batch_size = 64;             // datagrams per recvmmsg call
  int receive_buffer_bytes = 0;       // SO_RCVBUF; 0: the system default
};

struct DatagramReceiverStats {
  std::atomic<uint64_t> datagrams{0}, bytes{0}, batches{0}, oversized{0}, errors{0};
  std::atomic<uint64_t> connections{0};  // SEQPACKET peers accepted
};

class DatagramReceiver {
 public:
  // Receiver thread: `data` holds the batch's datagrams, each ending in '\n'.
  // The callee may take the string's contents (std::move).
  using BatchFn = std::function<void(std::string& data, uint64_t datagrams)>;

  explicit DatagramReceiver(DatagramReceiverConfig config);
  ~DatagramReceiver();
  DatagramReceiver(const DatagramReceiver&) = delete;
  DatagramReceiver& operator=(const DatagramReceiver&) = delete;

  // Binds the socket (removing a stale socket file first). False with
  // error_code() EADDRINUSE (a live receiver owns the path), ENOTSOCK (the
  // path is some other file), EGROUP, or ESOCKET and a message.
  bool open();
  // Starts the receiver thread; `on_batch` runs on it, and `on_exit` is its
  // last act (the binding releases its thread-safe function there).
  void start(BatchFn on_batch, std::function<void()> on_exit = {});
  // Any thread, never blocks: asks the receiver thread to finish.
  void request_stop();
  // Wakes the thread, joins it, closes the sockets and removes the socket
  // file. Batches already handed to on_batch are the caller's.
  void stop();

  const DatagramReceiverStats& stats() const { return stats_; }
  const std::string& error_code() const { return error_code_; }
  const std::string& error_message() const { return error_message_; }

 private:
  void run();
  // Drains fd with recvmmsg; returns false when a SEQPACKET peer is gone.
  bool drain(int fd, std::string& batch, uint64_t& count);
  bool fail(const char* code, std::string message);

  DatagramReceiverConfig config_;
  int fd_ = -1, wake_fd_ = -1;
  std::thread thread_;
  BatchFn on_batch_;
  std::function<void()> on_exit_;
  DatagramReceiverStats stats_;
  std::string error_code_, error_message_;
  bool bound_ = false;
};

}  // namespace ja4::io
