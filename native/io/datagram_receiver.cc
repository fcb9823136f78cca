#include "datagram_receiver.h"

#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ja4::io {

namespace {

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

// A batch is handed over once it holds this much, so one JS call carries
// many datagrams without letting a burst build an unbounded buffer.
constexpr size_t kFlushBytes = 1 << 20;
// recvmmsg calls per socket per poll round: a busy peer cannot starve others.
constexpr int kRoundsPerWakeup = 16;
constexpr size_t kMaxPeers = 4096;

bool fill_addr(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

DatagramReceiver::DatagramReceiver(DatagramReceiverConfig config) : config_(std::move(config)) {}

DatagramReceiver::~DatagramReceiver() { stop(); }

bool DatagramReceiver::fail(const char* code, std::string message) {
  error_code_ = code;
  error_message_ = std::move(message);
  if (fd_ >= 0) ::close(fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  fd_ = wake_fd_ = -1;
  return false;
}

bool DatagramReceiver::open() {
  const std::string& path = config_.path;
  sockaddr_un addr;
  if (!fill_addr(path, addr)) return fail("ESOCKET", path + ": path too long for a UNIX socket");
  int type = config_.seqpacket ? SOCK_SEQPACKET : SOCK_DGRAM;

  // A socket file left by a receiver that died is removed; one a live
  // receiver is bound to is not (two receivers would split the traffic).
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail("ENOTSOCK", path + " exists and is not a socket; not removing it");
    int probe = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = probe >= 0 ? connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) : -1;
    int err = errno;
    if (probe >= 0) ::close(probe);
    if (rc != 0 && (err == EACCES || err == EPERM))
      return fail("EACCES", path + ": a socket file this user may not connect to (owner uid " +
                                std::to_string(st.st_uid) + ", mode " + octal(st.st_mode & 07777) +
                                "): left by a run as another user? remove it, or run as its owner");
    if (rc == 0 || (err != ECONNREFUSED && err != ENOENT))
      return fail("EADDRINUSE", path + ": another receiver is listening on this socket");
    ::unlink(path.c_str());
  }

  gid_t gid = static_cast<gid_t>(-1);
  if (!config_.group.empty()) {
    char* end = nullptr;
    unsigned long n = std::strtoul(config_.group.c_str(), &end, 10);
    if (end && *end == '\0') {
      gid = static_cast<gid_t>(n);
    } else {
      struct group gr, *res = nullptr;
      std::vector<char> buf(16384);
      if (getgrnam_r(config_.group.c_str(), &gr, buf.data(), buf.size(), &res) != 0 || !res)
        return fail("EGROUP", "group \"" + config_.group + "\" does not exist");
      gid = gr.gr_gid;
    }
  }

  fd_ = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return fail("ESOCKET", std::string("socket: ") + std::strerror(errno));
  if (config_.receive_buffer_bytes > 0)
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &config_.receive_buffer_bytes, sizeof config_.receive_buffer_bytes);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return fail(errno == EADDRINUSE ? "EADDRINUSE" : "ESOCKET", path + ": bind: " + std::strerror(errno));
  bound_ = true;
  if (config_.mode >= 0 && chmod(path.c_str(), static_cast<mode_t>(config_.mode)) != 0)
    return fail("ESOCKET", path + ": chmod: " + std::strerror(errno));
  if (gid != static_cast<gid_t>(-1) && chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0)
    return fail("EGROUP", path + ": chgrp " + config_.group + ": " + std::strerror(errno));
  if (config_.seqpacket && listen(fd_, 512) != 0)
    return fail("ESOCKET", path + ": listen: " + std::strerror(errno));
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return fail("ESOCKET", std::string("eventfd: ") + std::strerror(errno));
  return true;
}

void DatagramReceiver::start(BatchFn on_batch, std::function<void()> on_exit) {
  on_batch_ = std::move(on_batch);
  on_exit_ = std::move(on_exit);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ja4-dgram-rx");
    run();
    if (on_exit_) on_exit_();
  });
}

void DatagramReceiver::request_stop() {
  if (wake_fd_ < 0) return;
  uint64_t one = 1;
  ssize_t w = write(wake_fd_, &one, sizeof one);
  (void)w;
}

void DatagramReceiver::stop() {
  if (thread_.joinable()) {
    request_stop();
    thread_.join();
  }
  if (fd_ >= 0) ::close(fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  fd_ = wake_fd_ = -1;
  if (bound_) ::unlink(config_.path.c_str());
  bound_ = false;
}

// Receiver thread.
bool DatagramReceiver::drain(int fd, std::string& batch, uint64_t& count) {
  const size_t n = config_.batch_size, cap = config_.max_datagram_bytes;
  static thread_local std::vector<char> storage;
  static thread_local std::vector<mmsghdr> msgs;
  static thread_local std::vector<iovec> iovs;
  if (storage.size() != n * cap) storage.assign(n * cap, 0);
  msgs.resize(n);
  iovs.resize(n);
  for (int round = 0; round < kRoundsPerWakeup; ++round) {
    for (size_t k = 0; k < n; ++k) {
      iovs[k] = iovec{storage.data() + k * cap, cap};
      std::memset(&msgs[k], 0, sizeof msgs[k]);
      msgs[k].msg_hdr.msg_iov = &iovs[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    int got = recvmmsg(fd, msgs.data(), static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      ++stats_.errors;
      return !config_.seqpacket;  // a SEQPACKET peer in error is dropped
    }
    if (got == 0) return !config_.seqpacket;
    for (int k = 0; k < got; ++k) {
      size_t len = msgs[k].msg_len;
      // recv() of 0 bytes on a SEQPACKET socket is the peer's shutdown, or an
      // empty record: only the last message of a batch can be the shutdown,
      // and then the socket says so (POLLHUP / POLLRDHUP). An empty record
      // carries nothing; the records after it are kept.
      if (len == 0 && config_.seqpacket && k == got - 1) {
        pollfd pf{fd, POLLRDHUP, 0};
        if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLRDHUP))) return false;
      }
      if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
        ++stats_.oversized;  // the kernel cut it to our buffer: drop it whole
        continue;
      }
      if (len == 0) continue;
      const char* d = storage.data() + k * cap;
      batch.append(d, len);
      if (d[len - 1] != '\n') batch.push_back('\n');
      ++count;
      stats_.bytes += len;
    }
    if (static_cast<size_t>(got) < n) return true;  // the queue is empty
    if (batch.size() >= kFlushBytes) return true;
  }
  return true;
}

// Receiver thread.
void DatagramReceiver::run() {
  std::vector<pollfd> fds;
  fds.push_back({wake_fd_, POLLIN, 0});
  fds.push_back({fd_, POLLIN, 0});
  std::string batch;
  uint64_t count = 0;
  auto flush = [&] {
    if (batch.empty()) return;
    stats_.datagrams += count;
    ++stats_.batches;
    on_batch_(batch, count);
    batch.clear();
    count = 0;
  };
  for (;;) {
    int n = poll(fds.data(), fds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      ++stats_.errors;
      break;
    }
    if (fds[0].revents) break;
    if (config_.seqpacket) {
      if (fds[1].revents & POLLIN) {
        int c = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0 && fds.size() < kMaxPeers + 2) {
          fds.push_back({c, POLLIN, 0});
          ++stats_.connections;
        } else if (c >= 0) {
          ::close(c);
          ++stats_.errors;
        }
      }
      for (size_t i = 2; i < fds.size();) {
        bool keep = true;
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          keep = drain(fds[i].fd, batch, count);
          // POLLHUP with the queue drained: the peer is gone.
          if (keep && (fds[i].revents & (POLLHUP | POLLERR)) && !(fds[i].revents & POLLIN)) keep = false;
        }
        if (batch.size() >= kFlushBytes) flush();
        if (keep) {
          ++i;
        } else {
          ::close(fds[i].fd);
          fds[i] = fds.back();
          fds.pop_back();
        }
      }
    } else if (fds[1].revents) {
      drain(fd_, batch, count);
    }
    flush();
  }
  for (size_t i = 2; i < fds.size(); ++i) ::close(fds[i].fd);
}

}  // namespace ja4::io
