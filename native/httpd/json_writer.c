/*
 * json_writer: see json_writer.h for the invariants. Everything here runs on
 * the thread that logs the request (log_transaction); no shared state.
 */
#include "json_writer.h"
#include "json_unchecked.h"

#include <string.h>

void rl_json_init(rl_json *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->len = 0;
    w->limit = cap;
    w->cap = cap;
}

int rl_json_reserve(rl_json *w, size_t n)
{
    if (w->limit < w->len + n) {
        return -1;
    }
    w->limit -= n;
    return 0;
}

void rl_json_release(rl_json *w, size_t n)
{
    w->limit += n;
    if (w->limit > w->cap) {
        w->limit = w->cap;
    }
}

int rl_json_lit(rl_json *w, const char *s)
{
    return rl_json_raw(w, s, strlen(s));
}

static const char RL_DIGIT_PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* v (< 10^8) as exactly 8 decimal digits at d: four digit pairs from
 * independent 32-bit divisions, no loop. */
static inline void rl_put8(char *d, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    memcpy(d, RL_DIGIT_PAIRS + (hi / 100) * 2, 2);
    memcpy(d + 2, RL_DIGIT_PAIRS + (hi % 100) * 2, 2);
    memcpy(d + 4, RL_DIGIT_PAIRS + (lo / 100) * 2, 2);
    memcpy(d + 6, RL_DIGIT_PAIRS + (lo % 100) * 2, 2);
}

static inline size_t rl_digits32(uint32_t v)
{
    return v < 10000 ? (v < 100 ? 1 + (v >= 10) : 3 + (v >= 1000))
                     : (v < 1000000 ? 5 + (v >= 100000) : 7 + (v >= 10000000));
}

/* v < 10^8 without leading zeros: most numbers of a record (status,
 * bytes, durations, request numbers) are a few digits, written by one or
 * two digit pairs without the 8-digit path's divisions. */
static char *rl_put_u27(char *o, uint32_t v)
{
    uint32_t lo;
    if (v >= 10000) {
        lo = v % 10000;
        o = rl_put_u27(o, v / 10000);
        memcpy(o, RL_DIGIT_PAIRS + (lo / 100) * 2, 2);
        memcpy(o + 2, RL_DIGIT_PAIRS + (lo % 100) * 2, 2);
        return o + 4;
    }
    if (v >= 100) {
        lo = v % 100;
        v /= 100;
        if (v >= 10) {
            memcpy(o, RL_DIGIT_PAIRS + v * 2, 2);
            o += 2;
        }
        else {
            *o++ = (char)('0' + v);
        }
        memcpy(o, RL_DIGIT_PAIRS + lo * 2, 2);
        return o + 2;
    }
    if (v >= 10) {
        memcpy(o, RL_DIGIT_PAIRS + v * 2, 2);
        return o + 2;
    }
    *o = (char)('0' + v);
    return o + 1;
}

char *rl_put_u64(char *o, uint64_t v)
{
    /* 64-bit divisions are the slow part: split into parts below 10^8
     * (a microsecond timestamp, 16 digits, is two), each written as 8
     * digits; the leading part without its leading zeros */
    uint32_t part[3];
    size_t nparts = 0, lead;
    char tmp[8];
    if (v < 100000000) {
        return rl_put_u27(o, (uint32_t)v);
    }
    while (v >= 100000000) {
        part[nparts++] = (uint32_t)(v % 100000000);
        v /= 100000000;
    }
    lead = rl_digits32((uint32_t)v);
    if (lead <= 2) {
        if (lead == 2) memcpy(o, RL_DIGIT_PAIRS + v * 2, 2);
        else o[0] = (char)('0' + v);
    }
    else {
        rl_put8(tmp, (uint32_t)v);
        rl_json_copy(o, tmp + 8 - lead, lead);
    }
    o += lead;
    while (nparts > 0) {
        rl_put8(o, part[--nparts]);
        o += 8;
    }
    return o;
}

/* The checked writer: the digits (at most 20) as rl_put_u64 writes them,
 * then the room check; nothing is written when they do not fit. */
int rl_json_u64(rl_json *w, uint64_t v)
{
    char digits[20];
    size_t n = (size_t)(rl_put_u64(digits, v) - digits);
    if (n > w->limit - w->len) {
        return -1;
    }
    memcpy(w->buf + w->len, digits, n);
    w->len += n;
    return 0;
}

int rl_json_i64(rl_json *w, int64_t v)
{
    if (v >= 0) {
        return rl_json_u64(w, (uint64_t)v);
    }
    size_t mark = w->len;
    /* -(v + 1) + 1 avoids overflow on INT64_MIN */
    if (rl_json_raw(w, "-", 1) != 0
        || rl_json_u64(w, (uint64_t)(-(v + 1)) + 1) != 0) {
        w->len = mark;
        return -1;
    }
    return 0;
}

/* RFC 3629 section 4:
 *   UTF8-2 = %xC2-DF UTF8-tail
 *   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
 *            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
 *   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
 *            %xF4 %x80-8F 2( UTF8-tail )
 */
size_t rl_utf8_seq_len(const unsigned char *in, size_t n)
{
    unsigned char c = in[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    }
    else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    if (in[1] < lo || in[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (in[i] < 0x80 || in[i] > 0xBF) {
            return 0;
        }
    }
    return len;
}

static const char HEX[] = "0123456789abcdef";

/* Byte classes: 0 copied as is (printable ASCII but '"' and '\\'), 1 a
 * two-character escape, 2 a \u00XX escape, 3 the start (or not) of a
 * multi-byte UTF-8 sequence. */
static const unsigned char RL_CLASS[256] = {
    /* 0x00-0x1f: \b \t \n \f \r have short forms */
    2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 1, 1, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,   /* '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,   /* DEL */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

/* Length of the run of class-0 bytes at in[0..n) (bytes copied as they
 * are), i.e. the index of the first byte that needs escaping or checking.
 * This runs over every string of every record, mostly short clean ones
 * (header names, methods, 10-100 byte values), so the tail matters as much
 * as the body: with SSE2 (every x86-64) 16 bytes per step, then one last
 * 16-byte load that overlaps what was already checked (ending at in[n-1]),
 * and for strings under 16 bytes two overlapping 8- or 4-byte loads. Every
 * load stays inside in[0..n). A byte is special when, as a signed byte, it
 * is below 0x20 (C0 controls, and 0x80-0xff, which are negative), or it is
 * DEL, '"' or '\\'. Without SSE2, the class table a byte at a time. */
#if defined(__SSE2__)
#define rl_special_mask rl_json_special_mask

static inline __m128i rl_load2x8(const unsigned char *a, const unsigned char *b)
{
    return _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)a),
                              _mm_loadl_epi64((const __m128i *)(const void *)b));
}

static inline __m128i rl_load2x4(const unsigned char *a, const unsigned char *b)
{
    uint32_t x, y;
    memcpy(&x, a, 4);
    memcpy(&y, b, 4);
    return _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)x), _mm_cvtsi32_si128((int)y));
}

size_t rl_json_plain_run(const unsigned char *in, size_t n)
{
    unsigned mask;
    if (n >= 16) {
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            mask = rl_special_mask(_mm_loadu_si128((const __m128i *)(const void *)(in + i)));
            if (mask != 0) {
                return i + (size_t)__builtin_ctz(mask);
            }
        }
        if (i == n) {
            return n;
        }
        /* in[n-16..n): bytes below i were clean, so the first bit set is
         * at or after i */
        mask = rl_special_mask(_mm_loadu_si128((const __m128i *)(const void *)(in + n - 16)));
        return mask ? n - 16 + (size_t)__builtin_ctz(mask) : n;
    }
    if (n >= 8) {
        /* lanes 0-7: in[0..8), lanes 8-15: in[n-8..n) */
        mask = rl_special_mask(rl_load2x8(in, in + n - 8));
        if (mask & 0xff) return (size_t)__builtin_ctz(mask);
        mask >>= 8;
        return mask ? n - 8 + (size_t)__builtin_ctz(mask) : n;
    }
    if (n >= 4) {
        /* lanes 0-3: in[0..4), lanes 4-7: in[n-4..n); lanes 8-15 zero,
         * which counts as special: masked off */
        mask = rl_special_mask(rl_load2x4(in, in + n - 4)) & 0xff;
        if (mask & 0x0f) return (size_t)__builtin_ctz(mask);
        mask >>= 4;
        return mask ? n - 4 + (size_t)__builtin_ctz(mask) : n;
    }
    for (size_t i = 0; i < n; i++) {
        if (RL_CLASS[in[i]] != 0) return i;
    }
    return n;
}
#else
size_t rl_json_plain_run(const unsigned char *in, size_t n)
{
    size_t i = 0;
    while (i < n && RL_CLASS[in[i]] == 0) i++;
    return i;
}
#endif

size_t rl_json_escape(char *out, size_t room, const unsigned char *in,
                      size_t n, int lower, size_t *consumed)
{
    size_t o = 0, i = 0;

    while (i < n) {
        unsigned char c = in[i];
        unsigned char cls = RL_CLASS[c];
        if (cls == 0) {
            /* a run of bytes copied as they are: one memcpy */
            size_t run = 1 + rl_json_plain_run(in + i + 1, n - i - 1);
            if (run > room - o) run = room - o;
            if (run == 0) break;
            rl_json_copy(out + o, (const char *)in + i, run);
            if (lower) {
                rl_json_lower(out + o, run);
            }
            o += run;
            i += run;
            continue;
        }
        if (cls == 1) {
            char esc = c == '"' ? '"' : c == '\\' ? '\\' : c == '\b' ? 'b'
                     : c == '\f' ? 'f' : c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            if (o + 2 > room) break;
            out[o++] = '\\';
            out[o++] = esc;
            i++;
            continue;
        }
        if (cls == 2) {
            /* C0 controls without a short form, and DEL */
            if (o + 6 > room) break;
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = HEX[c >> 4];
            out[o + 5] = HEX[c & 15];
            o += 6;
            i++;
            continue;
        }
        {
            size_t len = rl_utf8_seq_len(in + i, n - i);
            if (len == 0) {
                /* not well-formed: U+FFFD for this byte */
                if (o + 6 > room) break;
                memcpy(out + o, "\\ufffd", 6);
                o += 6;
                i++;
                continue;
            }
            if (o + len > room) break;
            memcpy(out + o, in + i, len);
            o += len;
            i += len;
        }
    }
    *consumed = i;
    return o;
}

char *rl_put_str_escaped(char *o, const char *s, size_t n, int lower)
{
    size_t consumed;
    size_t len = rl_json_escape(o + 1, RL_JSON_MAX_EXPANSION * n,
                                (const unsigned char *)s, n, lower, &consumed);
    o[0] = '"';
    o[len + 1] = '"';
    return o + len + 2;
}

int rl_json_str_slow(rl_json *w, const char *s, size_t n, size_t max_in,
                     int lower, int *truncated)
{
    size_t room = w->limit - w->len;
    size_t use = n < max_in ? n : max_in;
    size_t consumed = 0;

    if (truncated) *truncated = 0;
    if (room < 2) {
        if (truncated) *truncated = n > 0;
        return -1;
    }
    /* Back off to a character boundary so that a multi-byte character cut
     * by max_in is left out whole, not turned into U+FFFD bytes. */
    if (use < n) {
        size_t back = use;
        while (back > 0 && use - back < 3
               && ((unsigned char)s[back] & 0xC0) == 0x80) {
            back--;
        }
        if (back < use && rl_utf8_seq_len((const unsigned char *)s + back,
                                          n - back) > use - back) {
            use = back;
        }
    }
    w->buf[w->len] = '"';
    size_t o = rl_json_escape(w->buf + w->len + 1, room - 2,
                              (const unsigned char *)s, use, lower, &consumed);
    w->buf[w->len + 1 + o] = '"';
    w->len += o + 2;
    if (truncated) *truncated = consumed < n;
    return 0;
}
