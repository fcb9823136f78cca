// Proxy handshakes that precede TLS on the same TCP connection: SOCKS4(a),
// SOCKS5 and HTTP CONNECT. The engine skips them on both sides so that the
// ClientHello (JA4, JA3) and ServerHello (JA4S) that follow are
// fingerprinted as on a direct connection.
//
// Each call looks at the start of one direction's unconsumed bytes and
// says how long the next proxy message is (Skip), that more bytes are
// needed (NeedMore), or that the bytes are not that message (NotProxy).
// `stage` carries the position in the exchange between calls.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ja4 {

enum class ProxyKind : uint8_t { None, Socks4, Socks5, HttpConnect };
enum class ProxyStep : uint8_t { NeedMore, Skip, NotProxy };

// Stage value once the side's part of the handshake is over.
constexpr uint8_t kProxyDone = 0xff;

// Client side. With kind None, recognizes a SOCKS4/SOCKS5 request and sets
// kind. HTTP CONNECT is recognized by the HTTP parser instead.
ProxyStep proxy_client_message(ProxyKind& kind, uint8_t& stage, const uint8_t* d, size_t n, size_t& len);
// Server side of an exchange whose kind the client side established.
ProxyStep proxy_server_message(ProxyKind kind, uint8_t& stage, const uint8_t* d, size_t n, size_t& len);

}  // namespace ja4
