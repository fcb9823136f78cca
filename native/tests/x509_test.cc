// JA4X and the issuer/subject name fields against FoxIO's Rust tool.
//
// The fixtures under fixtures/x509/ are the server certificates of two of
// FoxIO's sample captures, extracted with
//   tshark -r FILE -Y tls.handshake.certificate -T fields
//          -e tcp.stream -e tls.handshake.certificate
// and named <capture>_s<tcp.stream>_c<index in the Certificate message>.der
// (ipv6 = ipv6.pcapng, hs = tls-handshake.pcapng). The expected values are
// copied from the Rust tool's output for those captures
// (shared/conformance/foxio-ja4/expected/{ipv6,tls-handshake}.pcapng.json).
#include "x509.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "check.h"
#include "hash.h"

using ja4::x509::CertInfo;
using ja4::x509::NameField;
using ja4::x509::parse_certificate;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Expected {
  const char* file;
  const char* ja4x;
  Fields fields;
};

const std::vector<Expected>& expected_certs() {
  static const std::vector<Expected> v = {
      // ipv6.pcapng stream 0: cloudflare.com, DigiCert ECC EV (the subject
      // carries businessCategory, jurisdiction and serialNumber).
      {"ipv6_s0_c0.der", "7d5dbb3783b4_ba7ce0880c07_7bf9a7bf7029",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerOrganizationalUnit", "www.digicert.com"},
        {"issuerCommonName", "DigiCert ECC Extended Validation Server CA"},
        {"subjectBusinessCategory", "Private Organization"},
        {"subjectMsJurisdictionCountry", "US"},
        {"subjectMsJurisdictionStateOrProvince", "Delaware"},
        {"subjectSerialNumber", "4710875"},
        {"subjectCountryName", "US"},
        {"subjectStateOrProvinceName", "California"},
        {"subjectLocalityName", "San Francisco"},
        {"subjectOrganizationName", "Cloudflare, Inc."},
        {"subjectCommonName", "cloudflare.com"}}},
      {"ipv6_s0_c1.der", "7d5dbb3783b4_7d5dbb3783b4_41a019652939",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerOrganizationalUnit", "www.digicert.com"},
        {"issuerCommonName", "DigiCert High Assurance EV Root CA"},
        {"subjectCountryName", "US"},
        {"subjectOrganizationName", "DigiCert Inc"},
        {"subjectOrganizationalUnit", "www.digicert.com"},
        {"subjectCommonName", "DigiCert ECC Extended Validation Server CA"}}},
      // tls-handshake.pcapng stream 5: *.lastpass.com and its GlobalSign CA.
      {"hs_s5_c0.der", "a373a9f83c6b_2bab15409345_5a6862e71bea",
       {{"issuerCountryName", "BE"},
        {"issuerOrganizationName", "GlobalSign nv-sa"},
        {"issuerCommonName", "GlobalSign RSA OV SSL CA 2018"},
        {"subjectCountryName", "US"},
        {"subjectStateOrProvinceName", "Massachusetts"},
        {"subjectLocalityName", "Boston"},
        {"subjectOrganizationName", "LASTPASS US LP"},
        {"subjectCommonName", "*.lastpass.com"}}},
      // The issuer (GlobalSign Root CA - R3) is OU, O, CN in that order:
      // fields follow the certificate's order, not a fixed one.
      {"hs_s5_c1.der", "0b479b1b5763_a373a9f83c6b_2fbee3f04f3b",
       {{"issuerOrganizationalUnit", "GlobalSign Root CA - R3"},
        {"issuerOrganizationName", "GlobalSign"},
        {"issuerCommonName", "GlobalSign"},
        {"subjectCountryName", "BE"},
        {"subjectOrganizationName", "GlobalSign nv-sa"},
        {"subjectCommonName", "GlobalSign RSA OV SSL CA 2018"}}},
      {"hs_s33_c0.der", "a373a9f83c6b_2bab15409345_7bf9a7bf7029",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerCommonName", "DigiCert TLS RSA SHA256 2020 CA1"},
        {"subjectCountryName", "US"},
        {"subjectStateOrProvinceName", "Massachusetts"},
        {"subjectLocalityName", "Cambridge"},
        {"subjectOrganizationName", "Akamai Technologies, Inc."},
        {"subjectCommonName", "a248.e.akamai.net"}}},
      {"hs_s33_c1.der", "7d5dbb3783b4_a373a9f83c6b_a83ffcd6e6c2",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerOrganizationalUnit", "www.digicert.com"},
        {"issuerCommonName", "DigiCert Global Root CA"},
        {"subjectCountryName", "US"},
        {"subjectOrganizationName", "DigiCert Inc"},
        {"subjectCommonName", "DigiCert TLS RSA SHA256 2020 CA1"}}},
      {"hs_s40_c0.der", "a373a9f83c6b_2bab15409345_7bf9a7bf7029",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerCommonName", "DigiCert TLS RSA SHA256 2020 CA1"},
        {"subjectCountryName", "US"},
        {"subjectStateOrProvinceName", "Washington"},
        {"subjectLocalityName", "Redmond"},
        {"subjectOrganizationName", "Microsoft Corporation"},
        {"subjectCommonName", "wcpstatic.microsoft.com"}}},
      // Self-signed root sent in the chain.
      {"hs_s40_c2.der", "7d5dbb3783b4_7d5dbb3783b4_f269f029c206",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerOrganizationalUnit", "www.digicert.com"},
        {"issuerCommonName", "DigiCert Global Root CA"},
        {"subjectCountryName", "US"},
        {"subjectOrganizationName", "DigiCert Inc"},
        {"subjectOrganizationalUnit", "www.digicert.com"},
        {"subjectCommonName", "DigiCert Global Root CA"}}},
      {"hs_s43_c0.der", "a373a9f83c6b_2bab15409345_7bf9a7bf7029",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerCommonName", "DigiCert SHA2 Secure Server CA"},
        {"subjectCountryName", "US"},
        {"subjectStateOrProvinceName", "Washington"},
        {"subjectLocalityName", "Redmond"},
        {"subjectOrganizationName", "Microsoft Corporation"},
        {"subjectCommonName", "login.live.com"}}},
      {"hs_s43_c1.der", "7d5dbb3783b4_a373a9f83c6b_44440d41940c",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerOrganizationalUnit", "www.digicert.com"},
        {"issuerCommonName", "DigiCert Global Root CA"},
        {"subjectCountryName", "US"},
        {"subjectOrganizationName", "DigiCert Inc"},
        {"subjectCommonName", "DigiCert SHA2 Secure Server CA"}}},
      {"hs_s46_c0.der", "a373a9f83c6b_2bab15409345_7bf9a7bf7029",
       {{"issuerCountryName", "US"},
        {"issuerOrganizationName", "DigiCert Inc"},
        {"issuerCommonName", "DigiCert TLS RSA SHA256 2020 CA1"},
        {"subjectCountryName", "US"},
        {"subjectStateOrProvinceName", "California"},
        {"subjectLocalityName", "San Jose"},
        {"subjectOrganizationName", "Adobe Systems Incorporated"},
        {"subjectCommonName", "target.microsoft.com"}}},
  };
  return v;
}

std::string load(const std::string& name) {
  return ja4test::read_file(std::string(JA4_SOURCE_DIR) + "/native/tests/fixtures/x509/" + name);
}

bool parse(const std::string& der, CertInfo& info) {
  return parse_certificate(reinterpret_cast<const uint8_t*>(der.data()), der.size(), info);
}

Fields as_pairs(const std::vector<NameField>& fields) {
  Fields out;
  for (const NameField& f : fields) out.emplace_back(f.key, f.value);
  return out;
}

std::string show_fields(const Fields& f) {
  std::string s;
  for (const auto& kv : f) s += "\n    " + kv.first + "=" + kv.second;
  return s;
}

void check_fields(const char* what, const Fields& got, const Fields& want) {
  ++ja4test::checks();
  if (got != want) {
    ++ja4test::failures();
    std::fprintf(stderr, "%s: fields differ\n  got:%s\n  want:%s\n", what,
                 show_fields(got).c_str(), show_fields(want).c_str());
  }
}

void test_reference_certs() {
  for (const Expected& e : expected_certs()) {
    std::string der = load(e.file);
    CHECK(!der.empty());
    CertInfo info;
    bool ok = parse(der, info);
    CHECK(ok);
    if (!ok) {
      std::fprintf(stderr, "  (%s)\n", e.file);
      continue;
    }
    CHECK_EQ(info.ja4x, std::string(e.ja4x));
    check_fields(e.file, as_pairs(info.fields), e.fields);
  }
}

// ja4x_r of the GlobalSign RSA OV SSL CA 2018 (lastpass chain), by hand
// from `openssl asn1parse`:
//   issuer  OU=GlobalSign Root CA - R3, O=GlobalSign, CN=GlobalSign
//           2.5.4.11 -> 55 04 0b, 2.5.4.10 -> 55 04 0a, 2.5.4.3 -> 55 04 03
//   subject C=BE, O=GlobalSign nv-sa, CN=GlobalSign RSA OV SSL CA 2018
//           2.5.4.6 -> 55 04 06, 55 04 0a, 55 04 03
//   extensions, in order: keyUsage 2.5.29.15 -> 55 1d 0f,
//           basicConstraints 2.5.29.19 -> 55 1d 13,
//           subjectKeyIdentifier 2.5.29.14 -> 55 1d 0e,
//           authorityKeyIdentifier 2.5.29.35 -> 55 1d 23,
//           authorityInfoAccess 1.3.6.1.5.5.7.1.1 -> 2b 06 01 05 05 07 01 01,
//           cRLDistributionPoints 2.5.29.31 -> 55 1d 1f,
//           certificatePolicies 2.5.29.32 -> 55 1d 20
// sha256 of the three lists starts 0b479b1b5763 / a373a9f83c6b /
// 2fbee3f04f3b, the reference's ja4x for this certificate.
void test_raw() {
  CertInfo info;
  CHECK(parse(load("hs_s5_c1.der"), info));
  CHECK_EQ(info.ja4x_r,
           std::string("55040b,55040a,550403_550406,55040a,550403_"
                       "551d0f,551d13,551d0e,551d23,2b06010505070101,551d1f,551d20"));
  CHECK_EQ(info.ja4x, std::string("0b479b1b5763_a373a9f83c6b_2fbee3f04f3b"));
}

// Every proper prefix of every real certificate is refused, without a crash
// and with `out` left empty.
void test_truncation() {
  int accepted = 0;
  for (const Expected& e : expected_certs()) {
    std::string der = load(e.file);
    for (size_t n = 0; n < der.size(); ++n) {
      CertInfo info;
      info.ja4x = "stale";
      // A fresh copy of exactly n bytes so that a sanitizer sees any overread.
      std::vector<uint8_t> buf(der.begin(), der.begin() + n);
      if (parse_certificate(buf.data(), buf.size(), info)) ++accepted;
      if (!info.ja4x.empty() || !info.fields.empty()) ++accepted;
    }
  }
  CHECK_EQ(accepted, 0);
  CertInfo info;
  CHECK(!parse_certificate(nullptr, 0, info));
  CHECK(!parse_certificate(nullptr, 10, info));
}

// Deterministic byte flips over the real certificates: never a crash, and a
// certificate that still parses has a well-formed JA4X.
void test_flips() {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int bad_shape = 0, parsed = 0, total = 0;
  for (const Expected& e : expected_certs()) {
    const std::string der = load(e.file);
    if (der.empty()) continue;
    for (int iter = 0; iter < 3000; ++iter) {
      std::vector<uint8_t> buf(der.begin(), der.end());
      int flips = 1 + static_cast<int>(next() % 4);
      for (int k = 0; k < flips; ++k) {
        size_t pos = next() % buf.size();
        // Bias towards the header region, where the structure lives.
        if (next() % 2) pos %= 400 < buf.size() ? 400 : buf.size();
        buf[pos] = static_cast<uint8_t>(next() % 3 == 0 ? buf[pos] ^ (1u << (next() % 8))
                                                        : next() & 0xff);
      }
      if (next() % 8 == 0) buf.resize(next() % buf.size());  // and sometimes cut
      CertInfo info;
      ++total;
      if (parse_certificate(buf.data(), buf.size(), info)) {
        ++parsed;
        if (info.ja4x.size() != 38 || info.ja4x[12] != '_' || info.ja4x[25] != '_')
          ++bad_shape;
      }
    }
  }
  // Random bytes too.
  for (int iter = 0; iter < 5000; ++iter) {
    std::vector<uint8_t> buf(next() % 300);
    for (auto& b : buf) b = static_cast<uint8_t>(next());
    if (!buf.empty() && next() % 2) buf[0] = 0x30;
    CertInfo info;
    parse_certificate(buf.data(), buf.size(), info);
  }
  CHECK_EQ(bad_shape, 0);
  CHECK(parsed < total);
  std::printf("x509 flips: %d mutated inputs, %d still parsed\n", total, parsed);
}

// ---------------------------------------------------------------------------
// Hand-built certificates for the corners the captures don't reach.

std::string tlv(uint8_t id, const std::string& body) {
  std::string out(1, static_cast<char>(id));
  size_t n = body.size();
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else if (n < 0x100) {
    out.push_back('\x81');
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back('\x82');
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xff));
  }
  return out + body;
}
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}
std::string seq(const std::string& b) { return tlv(0x30, b); }
std::string set(const std::string& b) { return tlv(0x31, b); }
std::string oid(std::initializer_list<int> b) { return tlv(0x06, bytes(b)); }
std::string atv(const std::string& type, const std::string& value) { return seq(type + value); }

const std::string kC = oid({0x55, 0x04, 0x06});
const std::string kO = oid({0x55, 0x04, 0x0a});
const std::string kOU = oid({0x55, 0x04, 0x0b});
const std::string kCN = oid({0x55, 0x04, 0x03});
const std::string kL = oid({0x55, 0x04, 0x07});
const std::string kEmail = oid({0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01});
const std::string kDC = oid({0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19});

std::string alg() { return seq(oid({0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}) + bytes({5, 0})); }
std::string validity() {
  return seq(tlv(0x17, "250101000000Z") + tlv(0x18, "20350101000000Z"));
}
std::string spki() { return seq(alg() + tlv(0x03, bytes({0, 1, 2}))); }

// TBSCertificate from its pieces; `version` and `tail` may be empty.
std::string tbs(const std::string& version, const std::string& issuer, const std::string& subject,
                const std::string& tail) {
  return seq(version + tlv(0x02, bytes({1})) + alg() + issuer + validity() + subject + spki() + tail);
}
std::string cert(const std::string& tbs_der) {
  return seq(tbs_der + alg() + tlv(0x03, bytes({0, 0xaa})));
}
std::string v3() { return tlv(0xa0, tlv(0x02, bytes({2}))); }
std::string ext(const std::string& id, bool critical, const std::string& value) {
  return seq(id + (critical ? bytes({1, 1, 0xff}) : std::string()) + tlv(0x04, value));
}

void test_synthetic_names() {
  // Issuer: C (PrintableString); a multi-valued RDN {O, OU}; a second OU as
  // BMPString (a key seen twice keeps its first place, takes the last
  // value); L as a Latin-1 TeletexString; emailAddress (no registry name:
  // no field); CN as an OCTET STRING (not a string: no field); DC as IA5.
  std::string bmp = bytes({0x00, 'Z', 0x00, 0xfc, 0x00, 'r', 0xd8, 0x3d, 0xde, 0x00});  // "Zür😀"
  std::string issuer = seq(set(atv(kC, tlv(0x13, "US"))) +
                           set(atv(kO, tlv(0x0c, "Org")) + atv(kOU, tlv(0x0c, "first"))) +
                           set(atv(kOU, tlv(0x1e, bmp))) +
                           set(atv(kL, tlv(0x14, bytes({'M', 0xfc, 'n', 'c', 'h', 'e', 'n'})))) +
                           set(atv(kEmail, tlv(0x16, "a@b.example"))) +
                           set(atv(kCN, tlv(0x04, "raw"))) +
                           set(atv(kDC, tlv(0x16, "example"))));
  std::string subject = seq("");  // empty Name
  // v1: no version, no extensions.
  std::string der = cert(tbs("", issuer, subject, ""));
  CertInfo info;
  CHECK(parse(der, info));
  const std::string issuer_raw =
      "550406,55040a,55040b,55040b,550407,2a864886f70d010901,550403,0992268993f22c640119";
  CHECK_EQ(info.ja4x_r, issuer_raw + "__");
  CHECK_EQ(info.ja4x, ja4::ja4_hash12(issuer_raw) + "_000000000000_000000000000");
  check_fields("synthetic names", as_pairs(info.fields),
               {{"issuerCountryName", "US"},
                {"issuerOrganizationName", "Org"},
                {"issuerOrganizationalUnit", "Z\xc3\xbcr\xf0\x9f\x98\x80"},
                {"issuerLocalityName", "M\xc3\xbcnchen"},
                {"issuerDomainComponent", "example"}});

  // Same certificate with 4 trailing bytes after the outer SEQUENCE: the
  // reference ignores what follows, so do we.
  CertInfo trailing;
  CHECK(parse(der + "junk", trailing));
  CHECK_EQ(trailing.ja4x, info.ja4x);

  // A value under a high tag number, and an odd-length BMPString: counted in
  // the hash, no field.
  std::string odd = seq(set(atv(kCN, bytes({0x9f, 0x22, 0x01, 0x00}))) +
                        set(atv(kO, tlv(0x1e, bytes({0x00, 'A', 0x00})))));
  CHECK(parse(cert(tbs(v3(), odd, odd, "")), info));
  CHECK_EQ(info.ja4x_r, std::string("550403,55040a_550403,55040a_"));
  CHECK(info.fields.empty());
}

void test_synthetic_extensions() {
  std::string name = seq(set(atv(kCN, tlv(0x0c, "x"))));
  std::string exts = seq(ext(oid({0x55, 0x1d, 0x13}), true, seq("")) +
                         ext(oid({0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x15, 0x07}), false,
                             bytes({0x05, 0x00})) +
                         ext(oid({0x55, 0x1d, 0x11}), false, seq(tlv(0x82, "a.example"))));
  // [1] issuerUniqueID and [2] subjectUniqueID before [3].
  std::string tail = tlv(0x81, bytes({0, 1})) + tlv(0x82, bytes({0, 2})) + tlv(0xa3, exts);
  CertInfo info;
  CHECK(parse(cert(tbs(v3(), name, name, tail)), info));
  CHECK_EQ(info.ja4x_r, std::string("550403_550403_551d13,2b0601040182371507,551d11"));
  CHECK_EQ(info.ja4x, ja4::ja4_hash12("550403") + "_" + ja4::ja4_hash12("550403") + "_" +
                          ja4::ja4_hash12("551d13,2b0601040182371507,551d11"));
  check_fields("synthetic ext", as_pairs(info.fields),
               {{"issuerCommonName", "x"}, {"subjectCommonName", "x"}});

  // An empty extension list.
  CHECK(parse(cert(tbs(v3(), name, name, tlv(0xa3, seq("")))), info));
  CHECK_EQ(info.ja4x_r, std::string("550403_550403_"));
}

void test_synthetic_malformed() {
  std::string name = seq(set(atv(kCN, tlv(0x0c, "x"))));
  std::string good_ext = tlv(0xa3, seq(ext(oid({0x55, 0x1d, 0x13}), true, seq(""))));
  CertInfo info;
  CHECK(parse(cert(tbs(v3(), name, name, good_ext)), info));

  auto refused = [&](const std::string& der) {
    CertInfo out;
    out.ja4x = "stale";
    bool ok = parse(der, out);
    return !ok && out.ja4x.empty() && out.fields.empty();
  };
  // Indefinite length on the outer SEQUENCE.
  std::string c = cert(tbs(v3(), name, name, good_ext));
  std::string indefinite = bytes({0x30, 0x80}) + c.substr(c[1] & 0x80 ? 2 + (c[1] & 0x7f) : 2) +
                           bytes({0, 0});
  CHECK(refused(indefinite));
  // Five length octets.
  CHECK(refused(bytes({0x30, 0x85, 0, 0, 0, 0, 5}) + std::string(5, '\0')));
  // A length far past the buffer.
  CHECK(refused(bytes({0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00})));
  // Empty RDN SET.
  CHECK(refused(cert(tbs(v3(), seq(set("")), name, ""))));
  // AttributeTypeAndValue with a third element, or without a value.
  CHECK(refused(cert(tbs(v3(), seq(set(seq(kCN + tlv(0x0c, "x") + tlv(0x0c, "y")))), name, ""))));
  CHECK(refused(cert(tbs(v3(), seq(set(seq(kCN))), name, ""))));
  // Attribute type that is not an OID, or an OID cut inside a subidentifier.
  CHECK(refused(cert(tbs(v3(), seq(set(atv(tlv(0x0c, "cn"), tlv(0x0c, "x")))), name, ""))));
  CHECK(refused(cert(tbs(v3(), seq(set(atv(oid({0x55, 0x04, 0x83}), tlv(0x0c, "x")))), name, ""))));
  CHECK(refused(cert(tbs(v3(), seq(set(atv(tlv(0x06, ""), tlv(0x0c, "x")))), name, ""))));
  // Name that is a SET instead of a SEQUENCE.
  CHECK(refused(cert(tbs(v3(), set(set(atv(kCN, tlv(0x0c, "x")))), name, ""))));
  // Extension without extnValue, with a non-BOOLEAN second element, or with
  // something after extnValue.
  CHECK(refused(cert(tbs(v3(), name, name, tlv(0xa3, seq(seq(oid({0x55, 0x1d, 0x13}))))))));
  CHECK(refused(cert(tbs(v3(), name, name,
                         tlv(0xa3, seq(seq(oid({0x55, 0x1d, 0x13}) + tlv(0x02, bytes({1})) +
                                           tlv(0x04, ""))))))));
  CHECK(refused(cert(tbs(v3(), name, name,
                         tlv(0xa3, seq(seq(oid({0x55, 0x1d, 0x13}) + tlv(0x04, "") +
                                           tlv(0x04, ""))))))));
  // Two SEQUENCEs inside [3], [3] before [1], [3] twice, an unknown [4].
  CHECK(refused(cert(tbs(v3(), name, name, tlv(0xa3, seq("") + seq(""))))));
  CHECK(refused(cert(tbs(v3(), name, name, good_ext + tlv(0x81, bytes({0}))))));
  CHECK(refused(cert(tbs(v3(), name, name, good_ext + good_ext))));
  CHECK(refused(cert(tbs(v3(), name, name, tlv(0xa4, seq(""))))));
  // Version that is not an INTEGER; missing serial.
  CHECK(refused(cert(tbs(tlv(0xa0, tlv(0x04, bytes({2}))), name, name, ""))));
  CHECK(refused(cert(seq(v3() + alg() + name + validity() + name + spki()))));
  // Certificate without its signature, or with something after it.
  std::string t = tbs(v3(), name, name, "");
  CHECK(refused(seq(t + alg())));
  CHECK(refused(seq(t + alg() + tlv(0x03, bytes({0})) + tlv(0x05, ""))));
  // Validity with one time only.
  CHECK(refused(cert(seq(v3() + tlv(0x02, bytes({1})) + alg() + name +
                         seq(tlv(0x17, "250101000000Z")) + name + spki()))));
}

}  // namespace

int main() {
  test_reference_certs();
  test_raw();
  test_truncation();
  test_flips();
  test_synthetic_names();
  test_synthetic_extensions();
  test_synthetic_malformed();
  return ja4test::finish("x509_test");
}
