// Writes seed corpora for the fuzzers from real data: frames of the given
// captures (packet_fuzz: link-type byte + frames joined by FF FE, 16 frames
// per seed), QUIC datagrams from hex fixtures (quic_fuzz), DER certificates
// (tls_fuzz). Usage: fuzz_seeds OUTDIR PCAP... -- QUICHEX... -- DER...
#include <pcap/pcap.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {
const int kLinkTypes[] = {0, 1, 12, 101, 108, 113, 228, 229, 276};

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

int link_index(int linktype) {
  for (int i = 0; i < 9; ++i)
    if (kLinkTypes[i] == linktype) return i;
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string out = argv[1];
  int section = 0, n = 0;
  for (int a = 2; a < argc; ++a) {
    std::string arg = argv[a];
    if (arg == "--") { ++section; continue; }
    if (section == 0) {
      char err[PCAP_ERRBUF_SIZE];
      pcap_t* p = pcap_open_offline(arg.c_str(), err);
      if (!p) continue;
      std::string seed(1, static_cast<char>(link_index(pcap_datalink(p))));
      int frames = 0;
      pcap_pkthdr* h;
      const u_char* d;
      while (pcap_next_ex(p, &h, &d) == 1) {
        if (frames) seed += "\xff\xfe";
        seed.append(reinterpret_cast<const char*>(d), h->caplen);
        if (++frames == 16) {
          write_file(out + "/packet_fuzz/seed" + std::to_string(n++), seed);
          seed.resize(1);
          frames = 0;
        }
      }
      if (frames) write_file(out + "/packet_fuzz/seed" + std::to_string(n++), seed);
      pcap_close(p);
    } else if (section == 1) {
      std::ifstream f(arg);
      std::string line, all;
      while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::string bin;
        for (size_t i = 0; i + 1 < line.size(); i += 2) bin.push_back(static_cast<char>(std::stoi(line.substr(i, 2), nullptr, 16)));
        if (!all.empty()) all += "\xff\xfe";
        all += bin;
      }
      write_file(out + "/quic_fuzz/seed" + std::to_string(n++), all);
    } else {
      std::ifstream f(arg, std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      write_file(out + "/tls_fuzz/seed" + std::to_string(n++), ss.str());
    }
  }
  std::printf("wrote %d seeds\n", n);
  return 0;
}
