// JA4, JA4S, JA3 and JA3S from parsed hellos.
//
// Spec: FoxIO JA4+ technical details (JA4 is BSD-3-Clause; JA4S is under the
// FoxIO License 1.1) and Salesforce JA3. The quotes next to the code are
// from those documents.
#pragma once

#include <string>

#include "tls_hello.h"

namespace ja4 {

enum class TlsTransport : char { Tcp = 't', Quic = 'q', Dtls = 'd' };

struct Ja4Client {
  std::string ja4;     // sorted, hashed
  std::string ja4_r;   // sorted, raw
  std::string ja4_o;   // original order, hashed
  std::string ja4_ro;  // original order, raw
};
struct Ja4Server {
  std::string ja4s;
  std::string ja4s_r;
};
struct Ja3 {
  std::string hash;    // MD5
  std::string full;    // the string hashed
};

// Which forms to fill in besides the sorted, hashed ones (ja4, ja4s, ja3,
// ja3s), which are always computed. A consumer that prints neither raw nor
// original-order forms (`ja4 pcap --jsonl` without --raw/--original) turns
// them off: the raw strings are then built in reused scratch (they are what
// is hashed) and left empty in the result, and the original-order JA4 is not
// computed at all.
struct FingerprintForms {
  bool raw = true;       // ja4_r (ja4_ro with original), ja4s_r, ja3/ja3s full strings
  bool original = true;  // ja4_o (and ja4_ro with raw)
};

Ja4Client ja4_fingerprint(const ClientHello& ch, TlsTransport transport, FingerprintForms forms = {});
Ja4Server ja4s_fingerprint(const ServerHello& sh, TlsTransport transport, FingerprintForms forms = {});
Ja3 ja3_fingerprint(const ClientHello& ch, FingerprintForms forms = {});
Ja3 ja3s_fingerprint(const ServerHello& sh, FingerprintForms forms = {});

// The two ALPN characters of JA4/JA4S for a protocol name (exposed for tests).
std::string ja4_alpn_chars(const std::string& alpn);
// The two version characters ("13", "12", ..., "s3", "d2", "00").
const char* ja4_version_chars(uint16_t version);

}  // namespace ja4
