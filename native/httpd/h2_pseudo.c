/*
 * h2_pseudo: HTTP/2 client frame stream -> per-stream pseudo-header order
 * (h2_pseudo.h). Stages: the connection preface, then frames; HEADERS and
 * CONTINUATION payloads lose their padding and priority fields and the
 * header block fragment goes, as it arrives, into libnghttp2's HPACK
 * inflater (which buffers a field split over reads or frames); each
 * emitted field whose name starts with ':' adds a letter to the stream's
 * order. Every other frame is skipped by its length.
 */
#include "h2_pseudo.h"

#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

/* RFC 9113 section 6: frame types and flags used here. */
#define H2_HEADERS      0x1
#define H2_SETTINGS     0x4
#define H2_CONTINUATION 0x9
#define H2_END_HEADERS  0x4
#define H2_PADDED       0x8
#define H2_PRIORITY     0x20

enum { ST_PREFACE, ST_FRAME_HEADER, ST_PAYLOAD, ST_STOPPED };

struct rl_h2_parser {
    int state;
    size_t got;                    /* preface or frame header bytes so far */
    unsigned char fh[9];           /* the frame header being read */
    int frames;                    /* frames seen (the first must be SETTINGS) */
    /* the current frame */
    uint8_t type, flags;
    uint32_t stream;
    uint32_t left;                 /* payload bytes still to come */
    /* HEADERS / CONTINUATION payload: prefix (pad length, priority), the
     * fragment, the padding */
    uint32_t prefix_left, frag_left;
    int padded_first;              /* the next prefix byte is Pad Length */
    uint32_t pad;
    /* the header block: open from HEADERS until END_HEADERS */
    int in_block;
    uint32_t block_stream;
    int recording;                 /* the block is its stream's first */
    uint32_t last_stream;          /* highest stream id opened by a block */
    uint8_t ncur;
    char cur[RL_H2_ORDER_MAX];
    nghttp2_hd_inflater *inflater;
    const char *error;
    /* ring of the newest RL_H2_STREAMS streams' orders */
    unsigned next, count;
    rl_h2_entry ring[RL_H2_STREAMS];
};

rl_h2_parser *rl_h2_new(void)
{
    rl_h2_parser *p = calloc(1, sizeof(*p));
    if (p == NULL) return NULL;
    /* The decoder's table limit starts at 4096 (RFC 7541 section 4.2, the
     * SETTINGS_HEADER_TABLE_SIZE default, which mod_http2 keeps); a client
     * asking for more in a size update is an HPACK error, as for nghttp2. */
    if (nghttp2_hd_inflate_new(&p->inflater) != 0) {
        free(p);
        return NULL;
    }
    p->state = ST_PREFACE;
    return p;
}

void rl_h2_free(rl_h2_parser *p)
{
    if (p == NULL) return;
    if (p->inflater) nghttp2_hd_inflate_del(p->inflater);
    free(p);
}

const char *rl_h2_error(const rl_h2_parser *p)
{
    return p->error;
}

static int rl_h2_stop(rl_h2_parser *p, const char *why)
{
    p->state = ST_STOPPED;
    p->error = why;
    return -1;
}

static char rl_h2_letter(const uint8_t *name, size_t len)
{
    /* RFC 9113 section 8.3.1: ":method", ":scheme", ":authority", ":path";
     * RFC 8441 section 4: ":protocol" (extended CONNECT). */
    switch (len) {
    case 5: if (memcmp(name, ":path", 5) == 0) return 'p'; break;
    case 7:
        if (memcmp(name, ":method", 7) == 0) return 'm';
        if (memcmp(name, ":scheme", 7) == 0) return 's';
        break;
    case 9: if (memcmp(name, ":protocol", 9) == 0) return 't'; break;
    case 10: if (memcmp(name, ":authority", 10) == 0) return 'a'; break;
    default: break;
    }
    return '?';
}

const char *rl_h2_pseudo_name(char letter)
{
    switch (letter) {
    case 'm': return ":method";
    case 's': return ":scheme";
    case 'a': return ":authority";
    case 'p': return ":path";
    case 't': return ":protocol";
    default: return "?";
    }
}

static void rl_h2_block_done(rl_h2_parser *p)
{
    p->in_block = 0;
    if (p->recording) {
        rl_h2_entry *e = &p->ring[p->next];
        e->stream = p->block_stream;
        e->n = p->ncur;
        memcpy(e->order, p->cur, sizeof(e->order));
        p->next = (p->next + 1) % RL_H2_STREAMS;
        if (p->count < RL_H2_STREAMS) p->count++;
    }
    p->recording = 0;
}

/* Header block fragment bytes into the inflater; final: the last bytes of
 * the block (END_HEADERS and the end of this frame's fragment). */
static int rl_h2_inflate(rl_h2_parser *p, const unsigned char *in, size_t n,
                         int final)
{
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t rv = nghttp2_hd_inflate_hd2(p->inflater, &nv, &flags, in, n,
                                            final);
        if (rv < 0) {
            return rl_h2_stop(p, "HPACK decoding failed");
        }
        in += rv;
        n -= (size_t)rv;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            /* RFC 9113 section 8.3: "Pseudo-header fields are not HTTP
             * header fields ... All pseudo-header fields MUST appear in a
             * field block before all regular field lines." Taken in the
             * order they came, wherever they are (a misplaced one makes the
             * request malformed, and mod_http2 refuses it). */
            if (p->recording && nv.namelen > 0 && nv.name[0] == ':'
                && p->ncur < RL_H2_ORDER_MAX) {
                p->cur[p->ncur++] = rl_h2_letter(nv.name, nv.namelen);
            }
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(p->inflater);
            rl_h2_block_done(p);
            return 0;
        }
        if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && n == 0) {
            return 0;
        }
    }
}

/* The payload prefix of HEADERS is read: the fragment follows. */
static int rl_h2_fragment_begin(rl_h2_parser *p)
{
    /* RFC 9113 section 6.2: "Padding that exceeds the size remaining for
     * the header block fragment MUST be treated as a PROTOCOL_ERROR." */
    if (p->pad > p->left) {
        return rl_h2_stop(p, "HEADERS padding longer than the frame");
    }
    p->frag_left = p->left - p->pad;
    if (p->frag_left == 0 && (p->flags & H2_END_HEADERS)) {
        return rl_h2_inflate(p, NULL, 0, 1);
    }
    return 0;
}

/* The 9-octet frame header is complete. RFC 9113 section 4.1:
 * Length (24), Type (8), Flags (8), Reserved (1), Stream Identifier (31). */
static int rl_h2_frame_begin(rl_h2_parser *p)
{
    const unsigned char *h = p->fh;
    p->left = ((uint32_t)h[0] << 16) | ((uint32_t)h[1] << 8) | h[2];
    p->type = h[3];
    p->flags = h[4];
    p->stream = (((uint32_t)h[5] << 24) | ((uint32_t)h[6] << 16)
                 | ((uint32_t)h[7] << 8) | h[8]) & 0x7fffffffu;
    /* RFC 9113 section 3.4: the preface "MUST be followed by a SETTINGS
     * frame". */
    if (p->frames++ == 0 && p->type != H2_SETTINGS) {
        return rl_h2_stop(p, "no SETTINGS frame after the preface");
    }
    /* Section 6.10: "A receiver MUST treat the receipt of any other type
     * of frame or a frame on a different stream as a connection error" when
     * a header block has no END_HEADERS yet; and "A CONTINUATION frame MUST
     * be preceded by a HEADERS, PUSH_PROMISE or CONTINUATION frame without
     * the END_HEADERS flag set." */
    if (p->in_block
        && (p->type != H2_CONTINUATION || p->stream != p->block_stream)) {
        return rl_h2_stop(p, "header block interrupted");
    }
    if (!p->in_block && p->type == H2_CONTINUATION) {
        return rl_h2_stop(p, "CONTINUATION outside a header block");
    }
    p->state = ST_PAYLOAD;
    p->prefix_left = 0;
    p->frag_left = 0;
    p->pad = 0;
    p->padded_first = 0;
    if (p->type == H2_HEADERS) {
        /* Section 6.2: "HEADERS frames MUST be associated with a stream." */
        if (p->stream == 0) {
            return rl_h2_stop(p, "HEADERS on stream 0");
        }
        p->padded_first = (p->flags & H2_PADDED) != 0;
        p->prefix_left = (p->padded_first ? 1 : 0)
                         + ((p->flags & H2_PRIORITY) ? 5 : 0);
        if (p->prefix_left > p->left) {
            return rl_h2_stop(p, "HEADERS shorter than its fields");
        }
        p->in_block = 1;
        p->block_stream = p->stream;
        /* Section 5.1.1: "The identifier of a newly established stream
         * MUST be numerically greater than all streams that the initiating
         * endpoint has opened": a block on an older stream is a trailer
         * section, decoded (for the table) but not recorded. */
        p->recording = p->stream > p->last_stream;
        if (p->recording) p->last_stream = p->stream;
        p->ncur = 0;
        if (p->prefix_left == 0) return rl_h2_fragment_begin(p);
    }
    else if (p->type == H2_CONTINUATION) {
        p->frag_left = p->left;
        if (p->left == 0 && (p->flags & H2_END_HEADERS)) {
            return rl_h2_inflate(p, NULL, 0, 1);
        }
    }
    return 0;
}

int rl_h2_feed(rl_h2_parser *p, const unsigned char *data, size_t len)
{
    while (len > 0) {
        switch (p->state) {
        case ST_STOPPED:
            return -1;
        case ST_PREFACE: {
            size_t n = RL_H2_PREFACE_LEN - p->got;
            if (n > len) n = len;
            if (memcmp(data, RL_H2_PREFACE + p->got, n) != 0) {
                return rl_h2_stop(p, "no connection preface");
            }
            p->got += n;
            data += n;
            len -= n;
            if (p->got == RL_H2_PREFACE_LEN) {
                p->got = 0;
                p->state = ST_FRAME_HEADER;
            }
            break;
        }
        case ST_FRAME_HEADER: {
            size_t n = sizeof(p->fh) - p->got;
            if (n > len) n = len;
            memcpy(p->fh + p->got, data, n);
            p->got += n;
            data += n;
            len -= n;
            if (p->got == sizeof(p->fh)) {
                p->got = 0;
                if (rl_h2_frame_begin(p) != 0) return -1;
                if (p->left == 0) p->state = ST_FRAME_HEADER;
            }
            break;
        }
        case ST_PAYLOAD: {
            size_t n;
            if (p->prefix_left > 0) {
                if (p->padded_first) {
                    p->pad = data[0];   /* Pad Length (8) */
                    p->padded_first = 0;
                }
                /* the priority fields (Exclusive, Stream Dependency,
                 * Weight; deprecated, RFC 9113 section 5.3.2) are skipped */
                p->prefix_left--;
                p->left--;
                data++;
                len--;
                if (p->prefix_left == 0 && rl_h2_fragment_begin(p) != 0) {
                    return -1;
                }
            }
            else if (p->frag_left > 0) {
                n = p->frag_left < len ? p->frag_left : len;
                p->frag_left -= (uint32_t)n;
                p->left -= (uint32_t)n;
                if (rl_h2_inflate(p, data, n, p->frag_left == 0
                                  && (p->flags & H2_END_HEADERS)) != 0) {
                    return -1;
                }
                data += n;
                len -= n;
            }
            else {
                /* another frame's payload, or HEADERS padding */
                n = p->left < len ? p->left : len;
                p->left -= (uint32_t)n;
                data += n;
                len -= n;
            }
            if (p->left == 0) p->state = ST_FRAME_HEADER;
            break;
        }
        }
    }
    return p->state == ST_STOPPED ? -1 : 0;
}

int rl_h2_lookup(const rl_h2_parser *p, uint32_t stream, char *out)
{
    unsigned i = p->next;
    for (unsigned k = 0; k < p->count; k++) {
        const rl_h2_entry *e;
        i = (i + RL_H2_STREAMS - 1) % RL_H2_STREAMS;
        e = &p->ring[i];
        if (e->stream == stream) {
            memcpy(out, e->order, RL_H2_ORDER_MAX);
            return e->n;
        }
    }
    return -1;
}
