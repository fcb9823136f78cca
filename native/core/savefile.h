// Opening a capture file (pcap or pcapng) for reading, with a large stdio
// buffer: shared by `ja4 pcap` (PcapFileReader) and replay (CaptureThread).
#pragma once

#include <pcap/pcap.h>

#include <memory>
#include <string>

namespace ja4 {

// A read-only savefile whose FILE reads through `buffer` (allocated here;
// it must outlive pcap_close). nullptr on failure, with errbuf set (as
// libpcap words it) and *open_errno the fopen error, 0 when the file opened
// but is not a capture libpcap reads.
pcap_t* open_savefile(const std::string& path, std::unique_ptr<char[]>& buffer, char* errbuf, int* open_errno = nullptr);

}  // namespace ja4
