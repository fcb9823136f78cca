// X.509 certificate parsing for JA4X (FoxIO JA4+).
//
// A minimal DER walker over one certificate: it reads only the structure
// JA4X needs (issuer and subject Names, the extension list) and checks the
// rest of the TBSCertificate for shape, never for meaning. Every length is
// checked through ByteReader; malformed input returns false, nothing throws.
//
// JA4X = a_b_c, each part the truncated SHA-256 (ja4_hash12) of a
// comma-joined list of OIDs written as the lowercase hex of their DER value
// bytes (no tag, no length), in certificate order:
//   a: the attribute types of the issuer's RDNs (every attribute of every
//      RDN, multi-valued RDNs flattened in encoded order),
//   b: the same for the subject,
//   c: the extension OIDs.
// An empty list hashes to "000000000000". ja4x_r is the three unhashed
// lists joined with "_" (FoxIO's `--with-raw` output).
//
// Name fields follow FoxIO's Rust tool (rust/ja4x/src/lib.rs): for each
// issuer attribute, then each subject attribute, in certificate order, the
// key is "issuer"/"subject" + the oid-registry short name (x509 set) with
// its first letter upper-cased ("issuerCountryName", "subjectCommonName",
// "subjectMsJurisdictionCountry", ...). Attributes whose OID has no short
// name in that registry (emailAddress 1.2.840.113549.1.9.1 among them) or
// whose value is not a string get no field, though they still count in the
// JA4X hashes. A key met twice (say two OUs) keeps the place of the first
// and the value of the last, as the reference's IndexMap does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ja4::x509 {

struct NameField {
  std::string key;
  std::string value;
};

struct CertInfo {
  std::string ja4x;    // a_b_c
  std::string ja4x_r;  // raw form: the three hex OID lists joined with "_"
  std::vector<NameField> fields;  // in the order the reference tool prints them
};

// Parses one DER certificate (as carried in a TLS Certificate message).
// Returns false, leaving `out` cleared, on any malformed or truncated input.
// Bytes after the outer Certificate SEQUENCE are ignored, as in the reference.
bool parse_certificate(const uint8_t* der, size_t len, CertInfo& out);

}  // namespace ja4::x509
