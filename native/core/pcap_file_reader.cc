#include "pcap_file_reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "record_json.h"
#include "savefile.h"

namespace ja4 {

namespace {
// The reference shape prints the raw and original-order forms only when
// asked (--raw, --original): the engine then skips computing the others.
EngineConfig with_printed_forms(EngineConfig config, const RecordJsonOptions& json) {
  if (json.reference) {
    config.forms.raw = json.raw;
    config.forms.original = json.original;
  }
  return config;
}
}  // namespace

PcapFileReader::PcapFileReader(std::string path, const EngineConfig& config, RecordJsonOptions json)
    : path_(std::move(path)), engine_(with_printed_forms(config, json)), json_(std::move(json)) {}

PcapFileReader::~PcapFileReader() {
  if (pcap_) pcap_close(pcap_);
}

void PcapFileReader::fail(const char* code, std::string message) {
  error_code_ = code;
  error_message_ = std::move(message);
}

bool PcapFileReader::open() {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    int e = errno;
    fail(e == ENOENT ? "ENOENT" : e == EACCES ? "EACCES" : "EOPEN", std::strerror(e));
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    fail("EFORMAT", "is a directory, not a capture file");
    return false;
  }
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  pcap_ = open_savefile(path_, stdio_buffer_, errbuf);
  if (!pcap_) {
    // libpcap says "unknown file format" for anything that is not pcap or
    // pcapng, and "truncated dump file" when even the header is cut short.
    std::string msg = errbuf;
    if (msg.find("unknown file format") != std::string::npos || msg.find("truncated") != std::string::npos ||
        msg.find("bad dump file format") != std::string::npos) {
      fail("EFORMAT", "not a pcap or pcapng capture (" + msg + ")");
    } else {
      fail("EOPEN", msg);
    }
    return false;
  }
  linktype_ = pcap_datalink(pcap_);
  if (!linktype_supported(linktype_)) {
    const char* name = pcap_datalink_val_to_name(linktype_);
    fail("ELINKTYPE", std::string("unsupported link type ") + std::to_string(linktype_) +
                          (name ? std::string(" (") + name + ")" : std::string()));
    return false;
  }
  return true;
}

void PcapFileReader::drain(std::string& out) {
  auto& ready = engine_.ready();
  // Each batch is a fresh string (the binding hands it to JS): sized like
  // the largest batch so far, it is filled without doubling and copying.
  if (out.capacity() < out.size() + batch_bytes_) out.reserve(out.size() + batch_bytes_);
  size_t start = out.size();
  for (const FlowRecord& r : ready) {
    append_record_json(out, r, json_);
    out.push_back('\n');
  }
  if (out.size() - start > batch_bytes_) batch_bytes_ = out.size() - start;
  ready.clear();
}

ReadStatus PcapFileReader::read_batch(size_t max_records, std::string& out) {
  if (finished_) return ReadStatus::End;
  if (!pcap_) {
    fail("ENOTOPEN", "reader is not open");
    return ReadStatus::Error;
  }
  struct pcap_pkthdr* hdr;
  const u_char* data;
  for (;;) {
    int rc = pcap_next_ex(pcap_, &hdr, &data);
    if (rc == 1) {
      int64_t ts = int64_t(hdr->ts.tv_sec) * 1000000 + hdr->ts.tv_usec;
      engine_.process(linktype_, data, hdr->caplen, ts);
      if (engine_.ready().size() >= max_records) {
        drain(out);
        return ReadStatus::Batch;
      }
      continue;
    }
    // End of file (-2) or an error such as a truncated record (-1): either
    // way the flows read so far are reported.
    finished_ = true;
    engine_.finish();
    drain(out);
    if (rc == -2) return ReadStatus::End;
    std::string msg = pcap_geterr(pcap_);
    fail(msg.find("truncated") != std::string::npos ? "ETRUNCATED" : "EREAD",
         msg + " after " + std::to_string(engine_.counters().packets) +
             (engine_.counters().packets == 1 ? " packet" : " packets"));
    return ReadStatus::Error;
  }
}

PcapScanResult scan_pcap_file(const std::string& path) {
  PcapScanResult r;
  char errbuf[PCAP_ERRBUF_SIZE] = {0};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (!p) {
    r.error = errbuf;
    return r;
  }
  struct pcap_pkthdr* hdr;
  const u_char* data;
  int rc;
  while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
    ++r.packets;
    r.bytes += hdr->caplen;
  }
  r.ok = rc == -2;
  if (!r.ok) r.error = pcap_geterr(p);
  pcap_close(p);
  return r;
}

}  // namespace ja4
