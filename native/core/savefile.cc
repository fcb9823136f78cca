#include "savefile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#if defined(__GLIBC__)
#include <stdio_ext.h>
#endif

namespace ja4 {

namespace {
// libpcap reads a savefile with two freads per packet (the record header,
// then its bytes). Through a default stdio stream that is a read(2) of
// 4 KiB every few packets and, in a multi-threaded process such as Node,
// a lock and an unlock per fread. A larger buffer makes the syscalls rare
// (the kernel's copy out of the page cache is what remains), and the
// stream is only ever used by the one thread reading it, so the locking
// is left to us (none needed).
constexpr size_t kStdioBufferBytes = size_t(256) << 10;
}  // namespace

pcap_t* open_savefile(const std::string& path, std::unique_ptr<char[]>& buffer, char* errbuf, int* open_errno) {
  if (open_errno) *open_errno = 0;
  FILE* fp = std::fopen(path.c_str(), "rb");
  if (!fp) {
    if (open_errno) *open_errno = errno;
    // As libpcap words it when it opens the file itself.
    std::snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s: %s", path.c_str(), std::strerror(errno));
    return nullptr;
  }
  buffer.reset(new char[kStdioBufferBytes]);
  setvbuf(fp, buffer.get(), _IOFBF, kStdioBufferBytes);
#if defined(__GLIBC__)
  __fsetlocking(fp, FSETLOCKING_BYCALLER);
#endif
  // pcap_close() closes the stream; on failure it is still ours.
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (!p) {
    std::fclose(fp);
    buffer.reset();
  }
  return p;
}

}  // namespace ja4
