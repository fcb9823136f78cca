// libFuzzer harness: TLS handshake message parsers and the fingerprints
// computed from whatever they accept.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tls_fingerprints.h"
#include "tls_hello.h"
#include "x509.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ja4::ClientHello ch;
  ja4::parse_client_hello(data, size, false, ch);
  ja4::ja4_fingerprint(ch, ja4::TlsTransport::Tcp);
  ja4::ja3_fingerprint(ch);
  ja4::ClientHello dch;
  ja4::parse_client_hello(data, size, true, dch);
  ja4::ja4_fingerprint(dch, ja4::TlsTransport::Dtls);
  ja4::ServerHello sh;
  ja4::parse_server_hello(data, size, sh);
  ja4::ja4s_fingerprint(sh, ja4::TlsTransport::Tcp);
  ja4::ja3s_fingerprint(sh);
  std::vector<ja4::CertificateView> certs;
  ja4::parse_certificate_list(data, size, certs);
  for (const auto& c : certs) {
    ja4::x509::CertInfo info;
    ja4::x509::parse_certificate(c.der, c.len, info);
  }
  ja4::x509::CertInfo direct;
  ja4::x509::parse_certificate(data, size, direct);
  return 0;
}
