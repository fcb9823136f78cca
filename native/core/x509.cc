#include "x509.h"

#include <cstring>
#include <string_view>

#include "byte_reader.h"
#include "hash.h"
#include "utf8.h"

namespace ja4::x509 {

namespace {

// ---------------------------------------------------------------------------
// DER TLV reading

// One DER element: `id` is its first identifier octet (class, constructed
// bit, and the tag number when below 31); `body` reads its contents.
struct Tlv {
  uint8_t id = 0;
  bool high_tag = false;  // tag number >= 31, in the following octets
  ByteReader body;
};

// DER identifier octets of the elements the parser checks for.
constexpr uint8_t kBoolean = 0x01;
constexpr uint8_t kInteger = 0x02;
constexpr uint8_t kBitString = 0x03;
constexpr uint8_t kOctetString = 0x04;
constexpr uint8_t kOid = 0x06;
constexpr uint8_t kUtcTime = 0x17;
constexpr uint8_t kGeneralizedTime = 0x18;
constexpr uint8_t kSequence = 0x30;
constexpr uint8_t kSet = 0x31;
constexpr uint8_t kCtx0 = 0xa0;  // [0] EXPLICIT version
constexpr uint8_t kCtx3 = 0xa3;  // [3] EXPLICIT extensions

// Reads one definite-length TLV. Lengths take at most 4 length octets; the
// indefinite form (BER only) is refused. The body must fit in `r`.
bool read_tlv(ByteReader& r, Tlv& t) {
  t.id = r.u8();
  if (!r.ok()) return false;
  t.high_tag = (t.id & 0x1f) == 0x1f;
  if (t.high_tag) {
    // Tag number in base-128 octets; a tag this parser accepts never needs
    // more than 4 of them.
    for (int i = 0;; ++i) {
      uint8_t b = r.u8();
      if (!r.ok() || i >= 4) return false;
      if (!(b & 0x80)) break;
    }
  }
  uint8_t l0 = r.u8();
  if (!r.ok()) return false;
  size_t len = 0;
  if (l0 < 0x80) {
    len = l0;
  } else {
    size_t n = l0 & 0x7f;
    if (n == 0 || n > 4) return false;  // indefinite, or absurdly long
    for (size_t i = 0; i < n; ++i) len = (len << 8) | r.u8();
    if (!r.ok()) return false;
  }
  t.body = r.sub(len);
  return r.ok();
}

// Reads a TLV that must have the single identifier octet `id`.
bool expect(ByteReader& r, uint8_t id, Tlv& t) {
  return read_tlv(r, t) && !t.high_tag && t.id == id;
}

std::string_view rest(ByteReader& r) { return r.bytes(r.remaining()); }

// ---------------------------------------------------------------------------
// OIDs

// A complete OBJECT IDENTIFIER value: non-empty, last octet ends a
// subidentifier.
bool valid_oid(std::string_view v) {
  return !v.empty() && !(static_cast<uint8_t>(v.back()) & 0x80);
}

// Dotted form of a DER OID value, or "" when it cannot be one the registry
// holds (non-minimal subidentifier, arc too large). The reference looks OIDs
// up by their encoded bytes, so a padded encoding never matches a name.
std::string dotted(std::string_view v) {
  std::string out;
  uint64_t arc = 0;
  bool first = true;
  bool start = true;
  for (char ch : v) {
    uint8_t b = static_cast<uint8_t>(ch);
    if (start && b == 0x80) return {};  // leading 0x80: not minimal
    start = false;
    if (arc > (UINT64_MAX >> 7)) return {};
    arc = (arc << 7) | (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      uint64_t top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
      out = std::to_string(top) + "." + std::to_string(arc - top * 40);
      first = false;
    } else {
      out += "." + std::to_string(arc);
    }
    arc = 0;
    start = true;
  }
  return out;
}

// The short names of Rust's oid-registry "x509" feature, which is what
// FoxIO's ja4x uses (OidRegistry::default().with_x509()); copied from
// oid-registry's assets/oid_db.txt. Only the 2.5.4.*, domainComponent and
// msJurisdiction* rows occur as Name attributes in practice; the others are
// kept so that an odd certificate names its attributes as the reference does.
struct OidName {
  const char* oid;
  const char* sn;
};
constexpr OidName kX509Names[] = {
    {"0.9.2342.19200300.100.1.25", "domainComponent"},
    {"1.2.840.10040.4.3", "dsa-with-sha1"},
    {"1.3.101.112", "ed25519"},
    {"1.3.101.113", "ed448"},
    {"1.3.6.1.4.1.311.60.2.1.1", "msJurisdictionLocality"},
    {"1.3.6.1.4.1.311.60.2.1.2", "msJurisdictionStateOrProvince"},
    {"1.3.6.1.4.1.311.60.2.1.3", "msJurisdictionCountry"},
    {"1.3.6.1.4.1.11129.2.4.2", "ctSCTList"},
    {"1.3.6.1.5.5.7.1.1", "authorityInfoAccess"},
    {"1.3.6.1.5.5.7.48.1", "id-ad-ocsp"},
    {"1.3.6.1.5.5.7.48.2", "id-ad-caIssuers"},
    {"1.3.6.1.5.5.7.48.3", "id-ad-timestamping"},
    {"1.3.6.1.5.5.7.48.4", "id-ad-dvcs"},
    {"1.3.6.1.5.5.7.48.5", "id-ad-caRepository"},
    {"1.3.6.1.5.5.7.48.6", "id-ad-http-certs"},
    {"1.3.6.1.5.5.7.48.7", "id-ad-http-crls"},
    {"1.3.6.1.5.5.7.48.10", "id-ad-rpki-manifest"},
    {"1.3.6.1.5.5.7.48.11", "id-ad-signed-object"},
    {"1.3.6.1.5.5.7.48.12", "id-ad-cmc"},
    {"1.3.6.1.5.5.7.48.13", "id-ad-rpki-notify"},
    {"1.3.6.1.5.5.7.48.14", "id-ad-stirTNList"},
    {"2.5.4", "x509"},
    {"2.5.4.0", "objectClass"},
    {"2.5.4.1", "aliasedEntryName"},
    {"2.5.4.2", "knowledgeInformation"},
    {"2.5.4.3", "commonName"},
    {"2.5.4.4", "surname"},
    {"2.5.4.5", "serialNumber"},
    {"2.5.4.6", "countryName"},
    {"2.5.4.7", "localityName"},
    {"2.5.4.8", "stateOrProvinceName"},
    {"2.5.4.9", "streetAddress"},
    {"2.5.4.10", "organizationName"},
    {"2.5.4.11", "organizationalUnit"},
    {"2.5.4.12", "title"},
    {"2.5.4.13", "description"},
    {"2.5.4.14", "searchGuide"},
    {"2.5.4.15", "businessCategory"},
    {"2.5.4.16", "postalAddress"},
    {"2.5.4.17", "postalCode"},
    {"2.5.4.41", "name"},
    {"2.5.4.42", "givenName"},
    {"2.5.4.43", "initials"},
    {"2.5.4.44", "generationQualifier"},
    {"2.5.4.45", "uniqueIdentifier"},
    {"2.5.4.46", "dnQualifier"},
    {"2.5.29.1", "oldAuthorityKeyIdentifier"},
    {"2.5.29.2", "oldKeyAttributes"},
    {"2.5.29.3", "oldCertificatePolicies"},
    {"2.5.29.4", "oldKeyUsage"},
    {"2.5.29.5", "oldPolicyMapping"},
    {"2.5.29.6", "oldSubtreesConstraint"},
    {"2.5.29.7", "oldSubjectAltNAme"},
    {"2.5.29.8", "oldIssuerAltNAme"},
    {"2.5.29.14", "subjectKeyIdentifier"},
    {"2.5.29.15", "keyUsage"},
    {"2.5.29.16", "privateKeyUsagePeriod"},
    {"2.5.29.17", "subjectAltName"},
    {"2.5.29.18", "issuerAltName"},
    {"2.5.29.19", "basicConstraints"},
    {"2.5.29.20", "crlNumber"},
    {"2.5.29.21", "reasonCode"},
    {"2.5.29.23", "holdInstructionCode"},
    {"2.5.29.24", "invalidityDate"},
    {"2.5.29.27", "deltaCRLIndicator"},
    {"2.5.29.28", "issuerDistributionPoint"},
    {"2.5.29.29", "issuer"},
    {"2.5.29.30", "nameConstraints"},
    {"2.5.29.31", "crlDistributionPoints"},
    {"2.5.29.32", "certificatePolicies"},
    {"2.5.29.33", "policyMappings"},
    {"2.5.29.35", "authorityKeyIdentifier"},
    {"2.5.29.36", "policyConstraints"},
    {"2.5.29.37", "extendedKeyUsage"},
    {"2.5.29.46", "freshestCRL"},
    {"2.5.29.54", "inhibitantAnyPolicy"},
    {"2.16.840.1.113730.1.1", "nsCertType"},
    {"2.16.840.1.113730.1.2", "nsBaseURL"},
    {"2.16.840.1.113730.1.3", "nsRevocationURL"},
    {"2.16.840.1.113730.1.4", "nsCARevocationURL"},
    {"2.16.840.1.113730.1.5", "nsCACRLURL"},
    {"2.16.840.1.113730.1.6", "nsCACertURL"},
    {"2.16.840.1.113730.1.7", "nsRenewalURL"},
    {"2.16.840.1.113730.1.8", "nsCAPolicyURL"},
    {"2.16.840.1.113730.1.9", "nsHomepageURL"},
    {"2.16.840.1.113730.1.10", "nsEntityLogo"},
    {"2.16.840.1.113730.1.11", "nsUserPicture"},
    {"2.16.840.1.113730.1.12", "nsSSLServerName"},
    {"2.16.840.1.113730.1.13", "nsComment"},
};

const char* short_name_uncached(std::string_view oid_value) {
  std::string d = dotted(oid_value);
  if (d.empty()) return nullptr;
  for (const OidName& e : kX509Names)
    if (d == e.oid) return e.sn;
  return nullptr;
}

// Certificates name few distinct attribute types (2.5.4.3, 2.5.4.6, ...):
// remembering the answers for their raw OID bytes spares each attribute a
// dotted-string conversion and a scan of the whole registry.
const char* short_name(std::string_view oid_value) {
  struct Entry {
    uint8_t len = 0;
    char raw[15];
    const char* sn;
  };
  thread_local Entry cache[16];
  thread_local size_t used = 0;
  for (size_t i = 0; i < used; ++i)
    if (cache[i].len == oid_value.size() && std::memcmp(cache[i].raw, oid_value.data(), oid_value.size()) == 0)
      return cache[i].sn;
  const char* sn = short_name_uncached(oid_value);
  if (used < 16 && oid_value.size() <= sizeof cache[0].raw) {
    Entry& e = cache[used++];
    e.len = static_cast<uint8_t>(oid_value.size());
    std::memcpy(e.raw, oid_value.data(), oid_value.size());
    e.sn = sn;
  }
  return sn;
}

// ---------------------------------------------------------------------------
// Attribute values -> UTF-8

// 8-bit string types: UTF-8 as it stands; bytes that are not UTF-8 (a
// Latin-1 TeletexString, say) are read as Latin-1.
std::string eight_bit(std::string_view s) {
  if (valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() * 2);
  for (char ch : s) append_utf8(out, static_cast<uint8_t>(ch));
  return out;
}

// BMPString: UTF-16BE (surrogate pairs decoded; a lone surrogate becomes
// U+FFFD). An odd length is no BMPString: no value.
bool bmp(std::string_view s, std::string& out) {
  if (s.size() % 2) return false;
  out.clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    uint32_t u = (uint32_t(uint8_t(s[i])) << 8) | uint8_t(s[i + 1]);
    if (u >= 0xd800 && u <= 0xdbff && i + 3 < s.size()) {
      uint32_t lo = (uint32_t(uint8_t(s[i + 2])) << 8) | uint8_t(s[i + 3]);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        append_utf8(out, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
        i += 2;
        continue;
      }
    }
    if (u >= 0xd800 && u <= 0xdfff) u = 0xfffd;
    append_utf8(out, u);
  }
  return true;
}

// The value of an attribute as text, or false when it is not a (primitive)
// string type, as the reference's AttributeTypeAndValue::as_str() fails for
// non-strings (and for UniversalString).
bool attribute_text(const Tlv& v, std::string& out) {
  if (v.high_tag) return false;
  ByteReader body = v.body;
  std::string_view s = rest(body);
  switch (v.id) {
    case 0x07:  // ObjectDescriptor
    case 0x0c:  // UTF8String
    case 0x12:  // NumericString
    case 0x13:  // PrintableString
    case 0x14:  // TeletexString (T61String)
    case 0x15:  // VideotexString
    case 0x16:  // IA5String
    case 0x19:  // GraphicString
    case 0x1a:  // VisibleString
    case 0x1b:  // GeneralString
      out = eight_bit(s);
      return true;
    case 0x1e:  // BMPString
      return bmp(s, out);
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// Names and extensions

void add_field(std::vector<NameField>& fields, std::string key, std::string value) {
  // IndexMap::insert: an existing key keeps its place, takes the new value.
  for (NameField& f : fields) {
    if (f.key == key) {
      f.value = std::move(value);
      return;
    }
  }
  fields.push_back({std::move(key), std::move(value)});
}

void append_oid_hex(std::string& list, std::string_view oid) {
  static const char kHex[] = "0123456789abcdef";
  if (!list.empty()) list.push_back(',');
  for (unsigned char c : oid) {
    const char two[2] = {kHex[c >> 4], kHex[c & 0xf]};
    list.append(two, 2);
  }
}

// Name ::= SEQUENCE OF RelativeDistinguishedName
// RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
// AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
bool parse_name(ByteReader name, const char* prefix, std::string& oids,
                std::vector<NameField>& fields) {
  while (!name.empty()) {
    Tlv rdn;
    if (!expect(name, kSet, rdn) || rdn.body.empty()) return false;
    while (!rdn.body.empty()) {
      Tlv atv, type, value;
      if (!expect(rdn.body, kSequence, atv)) return false;
      if (!expect(atv.body, kOid, type)) return false;
      std::string_view oid = rest(type.body);
      if (!valid_oid(oid)) return false;
      if (!read_tlv(atv.body, value) || !atv.body.empty()) return false;
      append_oid_hex(oids, oid);
      std::string text;
      const char* sn = short_name(oid);
      if (sn && attribute_text(value, text)) {
        std::string key = prefix;
        key += sn;
        char& first = key[std::char_traits<char>::length(prefix)];
        if (first >= 'a' && first <= 'z') first = static_cast<char>(first - 'a' + 'A');
        add_field(fields, std::move(key), std::move(text));
      }
    }
    if (!rdn.body.ok()) return false;
  }
  return name.ok();
}

// [3] EXPLICIT Extensions, Extensions ::= SEQUENCE OF Extension
// Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
//                          extnValue OCTET STRING }
bool parse_extensions(ByteReader ctx, std::string& oids) {
  Tlv seq;
  if (!expect(ctx, kSequence, seq) || !ctx.empty()) return false;
  while (!seq.body.empty()) {
    Tlv ext, id, next, value;
    if (!expect(seq.body, kSequence, ext)) return false;
    if (!expect(ext.body, kOid, id)) return false;
    std::string_view oid = rest(id.body);
    if (!valid_oid(oid)) return false;
    if (!read_tlv(ext.body, next) || next.high_tag) return false;
    if (next.id == kBoolean) {
      if (next.body.remaining() != 1) return false;
      if (!expect(ext.body, kOctetString, value)) return false;
    } else if (next.id != kOctetString) {
      return false;
    }
    if (!ext.body.empty()) return false;
    append_oid_hex(oids, oid);
  }
  return seq.body.ok();
}

// Validity ::= SEQUENCE { notBefore Time, notAfter Time }
bool check_validity(ByteReader v) {
  for (int i = 0; i < 2; ++i) {
    Tlv t;
    if (!read_tlv(v, t) || t.high_tag || (t.id != kUtcTime && t.id != kGeneralizedTime))
      return false;
  }
  return v.empty();
}

bool parse(const uint8_t* der, size_t len, CertInfo& out) {
  if (der == nullptr) return false;
  ByteReader in(der, len);

  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
  //                            signatureValue BIT STRING }
  Tlv cert, tbs, sig_alg, sig;
  if (!expect(in, kSequence, cert)) return false;
  if (!expect(cert.body, kSequence, tbs)) return false;
  if (!expect(cert.body, kSequence, sig_alg)) return false;
  if (!expect(cert.body, kBitString, sig) || !cert.body.empty()) return false;

  ByteReader& t = tbs.body;
  Tlv el;
  if (!read_tlv(t, el)) return false;
  if (!el.high_tag && el.id == kCtx0) {  // [0] EXPLICIT Version
    Tlv ver;
    if (!expect(el.body, kInteger, ver) || !el.body.empty()) return false;
    if (!read_tlv(t, el)) return false;
  }
  if (el.high_tag || el.id != kInteger) return false;  // serialNumber

  Tlv alg, issuer, validity, subject, spki;
  if (!expect(t, kSequence, alg)) return false;
  if (!expect(t, kSequence, issuer)) return false;
  if (!expect(t, kSequence, validity) || !check_validity(validity.body)) return false;
  if (!expect(t, kSequence, subject)) return false;
  if (!expect(t, kSequence, spki)) return false;

  std::string issuer_oids, subject_oids, ext_oids;
  std::vector<NameField> fields;
  if (!parse_name(issuer.body, "issuer", issuer_oids, fields)) return false;
  if (!parse_name(subject.body, "subject", subject_oids, fields)) return false;

  // [1] issuerUniqueID, [2] subjectUniqueID (IMPLICIT BIT STRING, either
  // form accepted), [3] extensions: each optional, in this order.
  int last = 0;
  while (!t.empty()) {
    if (!read_tlv(t, el) || el.high_tag || (el.id & 0xc0) != 0x80) return false;
    int n = el.id & 0x1f;
    if (n <= last || n > 3) return false;
    last = n;
    if (n == 3) {
      if (el.id != kCtx3 || !parse_extensions(el.body, ext_oids)) return false;
    }
  }
  if (!t.ok()) return false;

  out.ja4x = ja4_hash12(issuer_oids) + "_" + ja4_hash12(subject_oids) + "_" +
             ja4_hash12(ext_oids);
  out.ja4x_r = issuer_oids + "_" + subject_oids + "_" + ext_oids;
  out.fields = std::move(fields);
  return true;
}

}  // namespace

bool parse_certificate(const uint8_t* der, size_t len, CertInfo& out) {
  out = CertInfo();
  CertInfo tmp;
  if (!parse(der, len, tmp)) return false;
  out = std::move(tmp);
  return true;
}

}  // namespace ja4::x509
