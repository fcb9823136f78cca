#include "tls_hello.h"

#include "byte_reader.h"

namespace ja4 {

namespace {

bool parse_u16_list(ByteReader r, std::vector<uint16_t>& out) {
  out.reserve(out.size() + r.remaining() / 2);  // one allocation, not a doubling series
  while (r.remaining() >= 2) out.push_back(r.u16());
  return r.ok() && r.empty();
}

// RFC 6066 3: ServerNameList, entries of (type, 2-byte length, name);
// type 0 = host_name. We keep the first host_name.
void parse_sni(ByteReader r, ClientHello& out) {
  ByteReader list = r.sub(r.u16());
  while (list.ok() && list.remaining() >= 3) {
    uint8_t type = list.u8();
    std::string_view name = list.bytes(list.u16());
    if (!list.ok()) return;
    if (type == 0) {
      out.sni.assign(name.data(), name.size());
      return;
    }
  }
}

// RFC 7301 3.1: ProtocolNameList of 1-byte-length names.
void parse_alpn_list(ByteReader r, std::vector<std::string>& out) {
  ByteReader list = r.sub(r.u16());
  while (list.ok() && !list.empty()) {
    std::string_view name = list.bytes(list.u8());
    if (!list.ok()) return;
    out.emplace_back(name);
  }
}

}  // namespace

bool parse_client_hello(const uint8_t* body, size_t len, bool dtls, ClientHello& out) {
  ByteReader r(body, len);
  out.dtls = dtls;
  out.legacy_version = r.u16();
  r.skip(32);            // random
  r.skip(r.u8());        // legacy_session_id
  if (dtls) r.skip(r.u8());  // DTLS cookie (RFC 6347 4.2.1)
  ByteReader suites = r.sub(r.u16());
  if (!r.ok() || !parse_u16_list(suites, out.ciphers)) return false;
  r.skip(r.u8());        // legacy_compression_methods
  if (!r.ok()) return false;
  if (r.empty()) return true;  // SSLv3-style hello without extensions
  ByteReader exts = r.sub(r.u16());
  if (!r.ok()) return false;
  out.extensions.reserve(24);  // typical hellos carry 10-20
  while (exts.remaining() >= 4) {
    uint16_t type = exts.u16();
    ByteReader data = exts.sub(exts.u16());
    if (!exts.ok()) return false;
    out.extensions.push_back(type);
    switch (type) {
      case kExtServerName:
        out.has_sni = true;
        parse_sni(data, out);
        break;
      case kExtAlpn:
        parse_alpn_list(data, out.alpn);
        break;
      case kExtSignatureAlgorithms:
        parse_u16_list(data.sub(data.u16()), out.signature_algorithms);
        break;
      case kExtSupportedVersions:
        parse_u16_list(data.sub(data.u8()), out.supported_versions);
        break;
      case kExtSupportedGroups:
        parse_u16_list(data.sub(data.u16()), out.supported_groups);
        break;
      case kExtEcPointFormats: {
        ByteReader f = data.sub(data.u8());
        while (f.ok() && !f.empty()) out.ec_point_formats.push_back(f.u8());
        break;
      }
      default:
        break;
    }
  }
  // A trailing partial extension header means the message was inconsistent;
  // keep what was read (the fingerprint of a truncated hello is still useful)
  // but report it.
  return exts.empty();
}

bool parse_server_hello(const uint8_t* body, size_t len, ServerHello& out) {
  ByteReader r(body, len);
  out.legacy_version = r.u16();
  r.skip(32);
  r.skip(r.u8());  // session id
  out.cipher = r.u16();
  r.skip(1);       // compression method
  if (!r.ok()) return false;
  if (r.empty()) return true;
  ByteReader exts = r.sub(r.u16());
  if (!r.ok()) return false;
  while (exts.remaining() >= 4) {
    uint16_t type = exts.u16();
    ByteReader data = exts.sub(exts.u16());
    if (!exts.ok()) return false;
    out.extensions.push_back(type);
    if (type == kExtSupportedVersions && data.remaining() >= 2) {
      out.selected_version = data.u16();
    } else if (type == kExtAlpn) {
      std::vector<std::string> names;
      parse_alpn_list(data, names);
      if (!names.empty()) {
        out.alpn = names.front();
        out.has_alpn = true;
      }
    }
  }
  return exts.empty();
}

bool parse_certificate_list(const uint8_t* body, size_t len, std::vector<CertificateView>& out) {
  ByteReader r(body, len);
  ByteReader list = r.sub(r.u24());
  if (!r.ok()) return false;
  while (list.ok() && !list.empty()) {
    uint32_t n = list.u24();
    std::string_view der = list.bytes(n);
    if (!list.ok()) return false;
    out.push_back({reinterpret_cast<const uint8_t*>(der.data()), der.size()});
  }
  return list.ok();
}

}  // namespace ja4
