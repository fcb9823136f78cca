#include "datagram_sender.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ja4::io {

namespace {

constexpr int64_t kRetryMs = 100;

int64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

DatagramSender::DatagramSender(std::string path, bool seqpacket) : path_(std::move(path)), seqpacket_(seqpacket) {}

DatagramSender::~DatagramSender() { close(); }

void DatagramSender::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool DatagramSender::connect_now() {
  int64_t now = now_ms();
  if (now < retry_at_ms_) return false;
  retry_at_ms_ = now + kRetryMs;
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) {
    last_error_ = "ENAMETOOLONG";
    return false;
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  int fd = socket(AF_UNIX, (seqpacket_ ? SOCK_SEQPACKET : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    last_error_ = std::strerror(errno);
    return false;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    last_error_ = std::strerror(errno);
    ::close(fd);
    return false;
  }
  fd_ = fd;
  ++stats_.connects;
  return true;
}

bool DatagramSender::send(const void* data, size_t len) {
  if (fd_ < 0 && !connect_now()) {
    ++stats_.dropped;
    return false;
  }
  ssize_t n = ::send(fd_, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n == static_cast<ssize_t>(len)) {
    ++stats_.sent;
    stats_.bytes += len;
    return true;
  }
  int err = errno;
  last_error_ = std::strerror(err);
  ++stats_.dropped;
  if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) return false;  // receiver behind
  if (err == EMSGSIZE) return false;
  // The receiver went away (ECONNREFUSED, EPIPE, ENOTCONN, ...): reconnect
  // on a later send.
  ++stats_.errors;
  close();
  retry_at_ms_ = 0;
  return false;
}

}  // namespace ja4::io
