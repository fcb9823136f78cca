// What the engine reports for one stream (a TCP connection or a UDP flow):
// the endpoints with the client first, and every fingerprint it could
// compute. Empty strings mean "not seen". Serialized by record_json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ja4h.h"
#include "tls_fingerprints.h"
#include "x509.h"

namespace ja4 {

struct HttpRecord {
  Ja4H fp;
  std::string method, target, version, host, user_agent;
};

struct CertRecord {
  std::string ja4x, ja4x_r;
  // issuer*/subject* names, x509's own list moved in whole (no copy per field)
  std::vector<x509::NameField> fields;
};

struct SshRecord {
  std::vector<std::string> ja4ssh;
  bool has_extras = false;
  std::string hassh, hassh_server, protocol_client, protocol_server, encryption_algorithm;
};

enum class RecordKind : uint8_t { Flow, Close };
// Why a reported TCP connection ended (close records).
enum class CloseReason : uint8_t { Fin, Rst, Idle, Evicted };

struct FlowRecord {
  RecordKind kind = RecordKind::Flow;
  CloseReason close_reason = CloseReason::Fin;  // kind == Close only
  uint64_t stream = 0;
  char transport = 't';     // 't' tcp, 'u' udp
  std::string src, dst;     // client, server
  uint16_t src_port = 0, dst_port = 0;
  int64_t first_ts_us = 0, last_ts_us = 0;
  uint64_t packets = 0;
  bool closed = false;      // FIN/RST seen (vs evicted or end of input)

  bool has_client_hello = false;
  std::string sni;
  bool has_sni = false;
  std::string alpn;         // client's first ALPN value
  std::string tls_version;  // JA4 version chars of the client hello
  Ja4Client ja4;
  Ja3 ja3;
  bool has_server_hello = false;
  Ja4Server ja4s;
  Ja3 ja3s;
  std::string ja4t, ja4ts, ja4l_c, ja4l_s;
  uint8_t client_ttl = 0;
  std::vector<HttpRecord> http;
  std::vector<CertRecord> certs;  // one chain (TLS 1.2 Certificate message)
  SshRecord ssh;

  bool has_fingerprint() const {
    return has_client_hello || has_server_hello || !ja4t.empty() || !ja4ts.empty() ||
           !ja4l_c.empty() || !http.empty() || !certs.empty() || !ssh.ja4ssh.empty() ||
           ssh.has_extras;
  }
};

}  // namespace ja4
