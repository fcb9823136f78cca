/*
 * h2_pseudo: the order of the pseudo-header fields (:method, :scheme,
 * :authority, :path, :protocol) of each HTTP/2 request, taken from the
 * client's byte stream on the master connection. mod_http2 stores these
 * fields into members of its h2_request and keeps no order, so the frames
 * are parsed a second time here, and each header block is decoded with
 * libnghttp2's HPACK inflater (the dynamic table must be followed to
 * resolve indexed names, RFC 7541 section 2.3).
 *
 * Plain C11 and libnghttp2, no APR: the module feeds it from its
 * connection input filter (mod_reqin_log.c) and h2_pseudo_cli.c drives it
 * from the unit test. Not thread-safe: the caller serialises rl_h2_feed
 * and rl_h2_lookup.
 *
 * Bounded: one inflater (its dynamic table is at most the 4096 bytes of
 * SETTINGS_HEADER_TABLE_SIZE mod_http2 leaves at its default) and a ring of
 * RL_H2_STREAMS entries; older streams are forgotten. Bytes that are not a
 * valid frame sequence stop the parser for good (rl_h2_feed returns -1);
 * the caller keeps passing the bytes on untouched.
 */
#ifndef RL_H2_PSEUDO_H
#define RL_H2_PSEUDO_H

#include <stddef.h>
#include <stdint.h>

#define RL_H2_ORDER_MAX 8     /* pseudo fields kept per stream */
#define RL_H2_STREAMS   128   /* streams remembered (mod_http2 allows 100 at once) */

/* RFC 9113 section 3.4: "the connection preface starts with the string
 * PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (24 octets). */
#define RL_H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define RL_H2_PREFACE_LEN 24

/* One pseudo field, a letter: m :method, s :scheme, a :authority,
 * p :path, t :protocol (RFC 8441), ? any other name starting with ':'. */
typedef struct {
    uint32_t stream;
    uint8_t n;
    char order[RL_H2_ORDER_MAX];
} rl_h2_entry;

typedef struct rl_h2_parser rl_h2_parser;

/* A parser that expects the connection preface next; NULL without memory. */
rl_h2_parser *rl_h2_new(void);
void rl_h2_free(rl_h2_parser *p);

/* The next bytes the client sent. 0: fine; -1: not (or no longer) a valid
 * HTTP/2 client stream: the parser stopped and ignores further bytes. */
int rl_h2_feed(rl_h2_parser *p, const unsigned char *data, size_t len);

/* Why the parser stopped (a constant string), or NULL while it runs. */
const char *rl_h2_error(const rl_h2_parser *p);

/* The order of stream's pseudo fields: their letters into out (at least
 * RL_H2_ORDER_MAX bytes), returns their number (0 to RL_H2_ORDER_MAX), or
 * -1 when the stream's first header block was not seen (or is forgotten). */
int rl_h2_lookup(const rl_h2_parser *p, uint32_t stream, char *out);

/* The name of a letter (":method" ...), "?" for '?'. */
const char *rl_h2_pseudo_name(char letter);

#endif /* RL_H2_PSEUDO_H */
