// Named engine counters: every malformed input, eviction and drop has one,
// so a bad capture is explained by numbers instead of by a crash.
// X-macro so the list, the struct and the JSON/JS export never drift apart.
#pragma once

#include <cstdint>

#define JA4_COUNTERS(X)                                                     \
  X(packets)              /* packets read from the source */                \
  X(bytes)                /* captured bytes read */                         \
  X(ip_packets)           /* packets that reached an IPv4/IPv6 header */    \
  X(tcp_packets)                                                            \
  X(udp_packets)                                                            \
  X(non_ip)               /* ARP, LLDP, ... ignored */                      \
  X(unsupported_linktype)                                                   \
  X(truncated_link)       /* shorter than its link-layer header */          \
  X(truncated_ip)         /* IP header longer than the captured bytes */    \
  X(bad_ip_header)        /* wrong version, IHL < 5, ... */                 \
  X(truncated_ipv6_ext)   /* IPv6 extension chain cut short */              \
  X(ip_fragments)         /* IPv4/IPv6 fragments seen */                    \
  X(ip_reassembled)       /* datagrams rebuilt from fragments */            \
  X(ip_fragments_dropped) /* fragments of datagrams never completed (timeout, cap, overlap) */ \
  X(truncated_tcp)                                                          \
  X(bad_tcp_header)                                                         \
  X(truncated_udp)                                                          \
  X(tunnel_too_deep)      /* encapsulation nested past the limit */         \
  X(bad_tunnel_header)                                                      \
  X(tunneled_packets)     /* packets decoded inside GRE/VXLAN/... */        \
  X(flows_created)                                                          \
  X(flows_closed)         /* FIN both ways or RST */                        \
  X(flows_evicted_idle)   /* idle longer than the timeout */                \
  X(flows_evicted_capacity) /* table full: least recently seen evicted */   \
  X(tcp_out_of_order)     /* segments buffered ahead of the stream */       \
  X(tcp_retransmissions)  /* segments entirely before the stream */         \
  X(tcp_overlaps)         /* segments partly before the stream, trimmed */  \
  X(tcp_buffer_overflow)  /* out-of-order bytes dropped at the cap */       \
  X(handshake_overflow)   /* handshake bytes past the per-flow cap */       \
  X(tls_client_hellos)                                                      \
  X(tls_server_hellos)                                                      \
  X(tls_certificates)                                                       \
  X(malformed_client_hello)                                                 \
  X(malformed_server_hello)                                                 \
  X(malformed_certificate)                                                  \
  X(malformed_tls_record)                                                   \
  X(quic_initials)        /* QUIC Initial packets decrypted */              \
  X(quic_decrypt_failures)                                                  \
  X(malformed_quic)                                                         \
  X(quic_short_datagrams) /* client datagrams with an Initial under 1,200 bytes, ignored */ \
  X(http_requests)                                                          \
  X(malformed_http)                                                         \
  X(proxy_handshakes)     /* SOCKS4/SOCKS5/HTTP CONNECT exchanges skipped before TLS */ \
  X(records_emitted)                                                         \
  X(close_records)        /* close records of reported TCP connections (close_events) */

namespace ja4 {

struct Counters {
#define JA4_COUNTER_FIELD(name) uint64_t name = 0;
  JA4_COUNTERS(JA4_COUNTER_FIELD)
#undef JA4_COUNTER_FIELD
};

// Calls f(name, value) for every counter, in declaration order.
template <typename F>
void for_each_counter(const Counters& c, F&& f) {
#define JA4_COUNTER_VISIT(name) f(#name, c.name);
  JA4_COUNTERS(JA4_COUNTER_VISIT)
#undef JA4_COUNTER_VISIT
}

}  // namespace ja4
