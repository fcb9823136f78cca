// Parsers for the TLS handshake messages the fingerprints read:
// ClientHello, ServerHello and (TLS 1.2 and below) Certificate.
//
// They take one complete handshake message body (after the 4-byte handshake
// header) and collect every field the fingerprints need, GREASE included:
// the fingerprinting code decides what to drop, so the raw forms stay
// faithful to the wire. Parsing never throws; a short or inconsistent
// message returns false and the caller counts it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ja4 {

enum HandshakeType : uint8_t {
  kClientHello = 1,
  kServerHello = 2,
  kCertificate = 11,
};

enum ExtensionType : uint16_t {
  kExtServerName = 0x0000,
  kExtSupportedGroups = 0x000a,
  kExtEcPointFormats = 0x000b,
  kExtSignatureAlgorithms = 0x000d,
  kExtAlpn = 0x0010,
  kExtSupportedVersions = 0x002b,
  kExtQuicTransportParameters = 0x0039,
};

// RFC 8701: GREASE values are {0x0a0a, 0x1a1a, ..., 0xfafa}.
inline bool is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

struct ClientHello {
  uint16_t legacy_version = 0;
  std::vector<uint16_t> ciphers;          // wire order, GREASE included
  std::vector<uint16_t> extensions;       // wire order, GREASE included
  std::vector<uint16_t> signature_algorithms;
  std::vector<uint16_t> supported_versions;
  std::vector<uint16_t> supported_groups;
  std::vector<uint8_t> ec_point_formats;
  std::string sni;                        // first host_name entry, raw bytes
  bool has_sni = false;
  std::vector<std::string> alpn;          // protocol names in wire order
  bool dtls = false;

  // Empties every field but keeps the lists' capacity: the engine parses
  // every hello into one reused ClientHello instead of allocating seven
  // vectors per connection.
  void clear() {
    legacy_version = 0;
    ciphers.clear();
    extensions.clear();
    signature_algorithms.clear();
    supported_versions.clear();
    supported_groups.clear();
    ec_point_formats.clear();
    sni.clear();
    has_sni = false;
    alpn.clear();
    dtls = false;
  }
};

struct ServerHello {
  uint16_t legacy_version = 0;
  uint16_t cipher = 0;
  std::vector<uint16_t> extensions;       // wire order
  uint16_t selected_version = 0;          // supported_versions, 0 if absent
  std::string alpn;                       // the selected protocol, if any
  bool has_alpn = false;

  // Empties every field, keeping capacity (see ClientHello::clear).
  void clear() {
    legacy_version = cipher = selected_version = 0;
    extensions.clear();
    alpn.clear();
    has_alpn = false;
  }
};

// body/len: the ClientHello message body. dtls: DTLS layout (cookie field).
bool parse_client_hello(const uint8_t* body, size_t len, bool dtls, ClientHello& out);
bool parse_server_hello(const uint8_t* body, size_t len, ServerHello& out);

struct CertificateView {
  const uint8_t* der;
  size_t len;
};
// TLS 1.2 Certificate message: a 3-byte list length, then 3-byte-length DER
// certificates. Views point into `body`.
bool parse_certificate_list(const uint8_t* body, size_t len, std::vector<CertificateView>& out);

}  // namespace ja4
