/*
 * json_writer: a bounded JSON writer for mod_reqin_log. Plain C11, no APR,
 * so that native/httpd/json_writer_cli.c can drive it from the tests.
 *
 * Invariants
 *  - The buffer always holds a prefix of a valid JSON text: every write is
 *    all-or-nothing except strings, which are cut (on a character boundary)
 *    to what fits and report it through *truncated.
 *  - Strings come out as valid UTF-8 JSON whatever the input bytes:
 *    RFC 8259 section 7: "All Unicode characters may be placed within the
 *    quotation marks, except for the characters that MUST be escaped:
 *    quotation mark, reverse solidus, and the control characters (U+0000
 *    through U+001F)." We also escape U+007F. Bytes that are not part of a
 *    well-formed UTF-8 sequence (RFC 3629 section 4 table, so no overlongs,
 *    no surrogates, nothing above U+10FFFF) become U+FFFD, one per byte.
 *  - The writer never allocates: the caller hands it a buffer. `limit` is the
 *    number of bytes writes may use; callers lower it to reserve room for
 *    closing brackets (rl_json_reserve) and give it back (rl_json_release).
 */
#ifndef RL_JSON_WRITER_H
#define RL_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rl_json {
    char  *buf;    /* output, not NUL-terminated */
    size_t len;    /* bytes written */
    size_t limit;  /* bytes usable by writes now (<= cap) */
    size_t cap;    /* size of buf */
} rl_json;

void rl_json_init(rl_json *w, char *buf, size_t cap);

/* Keep n bytes back (for a closing bracket, a tail field); 0 on success,
 * -1 when fewer than n bytes are left. */
int rl_json_reserve(rl_json *w, size_t n);
void rl_json_release(rl_json *w, size_t n);

/* Copies n bytes without a call for the short pieces records are made of
 * (keys, punctuation, header names): two overlapping fixed-size copies,
 * which compilers turn into two loads and two stores, instead of a memcpy
 * call; memcpy past 32 bytes. */
static inline void rl_json_copy(char *d, const char *s, size_t n)
{
    if (n >= 16) {
        if (n > 32) {
            memcpy(d, s, n);
        }
        else {
            memcpy(d, s, 16);
            memcpy(d + n - 16, s + n - 16, 16);
        }
    }
    else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    }
    else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    }
    else if (n > 0) {
        d[0] = s[0];
        d[n >> 1] = s[n >> 1];
        d[n - 1] = s[n - 1];
    }
}

/* Raw bytes (punctuation, keys the caller knows to be safe). All or nothing:
 * 0 on success, -1 when they do not fit (nothing written). Inline: the
 * record writes dozens of these, most a few bytes long. */
static inline int rl_json_raw(rl_json *w, const char *s, size_t n)
{
    if (n > w->limit - w->len) {
        return -1;
    }
    rl_json_copy(w->buf + w->len, s, n);
    w->len += n;
    return 0;
}

/* A string literal: its length is known at compile time. */
#define RL_JSON_LIT(w, lit) rl_json_raw((w), (lit), sizeof(lit) - 1)

int rl_json_lit(rl_json *w, const char *s); /* rl_json_raw with strlen */

/* Decimal integers, all or nothing. */
int rl_json_u64(rl_json *w, uint64_t v);
int rl_json_i64(rl_json *w, int64_t v);

/* Whether byte c goes into a JSON string other than as it is (to escape,
 * or to check as UTF-8): below 0x20, DEL, '"', '\\', or 0x80 and above. */
static inline int rl_json_byte_special(unsigned char c)
{
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* Bit i set when byte i of v is special (rl_json_byte_special): as a
 * signed byte below 0x20 (C0 controls, and 0x80-0xff, which are negative),
 * or DEL, '"' or '\\'. */
static inline unsigned rl_json_special_mask(__m128i v)
{
    const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmplt_epi8(v, sp), _mm_cmpeq_epi8(v, del)),
        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* Length of the run of bytes at in[0..n) that go into a JSON string as
 * they are (printable ASCII but '"' and '\\'): the index of the first byte
 * to escape or to check as UTF-8, or n. */
size_t rl_json_plain_run(const unsigned char *in, size_t n);

/* ASCII letters of d[0..n) to lower case, 8 bytes at a time. Only for
 * plain runs (every byte 0x20-0x7e, see rl_json_plain_run): no byte has
 * its high bit set, so the per-byte additions never carry into the next
 * byte. Lower-casing twice changes nothing, so the last, overlapping word
 * may cover bytes already done. */
static inline uint64_t rl_json_lower8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t ge_a = x + ones * (0x80 - 'A');       /* high bit: >= 'A' */
    uint64_t gt_z = x + ones * (0x7f - 'Z');       /* high bit: > 'Z' */
    return x | ((ge_a & ~gt_z & ones * 0x80) >> 2); /* + 0x20 */
}

static inline void rl_json_lower(char *d, size_t n)
{
    uint64_t x;
    if (n >= 8) {
        for (size_t i = 0; i + 8 <= n; i += 8) {
            memcpy(&x, d + i, 8);
            x = rl_json_lower8(x);
            memcpy(d + i, &x, 8);
        }
        memcpy(&x, d + n - 8, 8);
        x = rl_json_lower8(x);
        memcpy(d + n - 8, &x, 8);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (d[i] >= 'A' && d[i] <= 'Z') d[i] = (char)(d[i] + 32);
    }
}

int rl_json_str_slow(rl_json *w, const char *s, size_t n, size_t max_in,
                     int lower, int *truncated);

/* A quoted, escaped JSON string from n input bytes, of which at most max_in
 * are used (a multi-byte character straddling max_in is left out whole).
 * When the escaped text does not fit in the space left, fewer characters are
 * written. *truncated (may be NULL) is set to 1 when any input was left out,
 * else 0. Returns 0, or -1 when not even "" fits (nothing written).
 * If lower is non-zero, ASCII letters are written in lower case.
 * Inline, for the common case taken in one step: the whole string fits as
 * it is (nothing to escape or check, no cap reached); else
 * rl_json_str_slow. */
static inline int rl_json_str(rl_json *w, const char *s, size_t n,
                              size_t max_in, int lower, int *truncated)
{
    if (n <= max_in && n + 2 <= w->limit - w->len
        && rl_json_plain_run((const unsigned char *)s, n) == n) {
        char *o = w->buf + w->len;
        o[0] = '"';
        rl_json_copy(o + 1, s, n);
        if (lower) rl_json_lower(o + 1, n);
        o[n + 1] = '"';
        w->len += n + 2;
        if (truncated) *truncated = 0;
        return 0;
    }
    return rl_json_str_slow(w, s, n, max_in, lower, truncated);
}

/* Escape without quotes into out (room bytes). Consumes whole characters
 * only; returns bytes written and sets *consumed to the input bytes used. */
size_t rl_json_escape(char *out, size_t room, const unsigned char *in,
                      size_t n, int lower, size_t *consumed);

/* Length of the well-formed UTF-8 sequence at in[0..n), or 0 if in[0]
 * does not start one (RFC 3629 section 4). */
size_t rl_utf8_seq_len(const unsigned char *in, size_t n);

#endif /* RL_JSON_WRITER_H */
