/*
 * header_name: header names compared by their length and their first eight
 * bytes in lower case, packed in a 64-bit word. Every request's header
 * names are matched against the ReqinLogHeaders rules, the names never
 * logged (Cookie, Authorization, Proxy-Authorization) and the names already
 * written; with the word, a name that does not match costs a length check
 * and a compare instead of a strncasecmp call, and one that matches is
 * compared byte by byte only past its eighth byte. Plain C11, no APR.
 *
 * RFC 9110 section 5.1: "Field names are case-insensitive". Only ASCII
 * letters fold: a byte with its high bit set is left as it is.
 */
#ifndef RL_HEADER_NAME_H
#define RL_HEADER_NAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Little-endian loads, so that byte i of a name is always bits 8i..8i+7. */
static inline uint64_t rl_name_le64(const char *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

static inline uint64_t rl_name_le32(const char *s)
{
    uint32_t x;
    memcpy(&x, s, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap32(x);
#endif
    return x;
}

/* ASCII upper-case letters of the 8 bytes of x to lower case. The
 * additions work on the low 7 bits of each byte, so none carries into the
 * next byte; bytes with the high bit set are excluded by ~x. */
static inline uint64_t rl_name_lower8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL;
    uint64_t h = x & (ones * 0x7f);
    uint64_t ge_a = h + ones * (0x80 - 'A');      /* high bit: >= 'A' */
    uint64_t gt_z = h + ones * (0x7f - 'Z');      /* high bit: > 'Z' */
    return x | ((ge_a & ~gt_z & ~x & (ones * 0x80)) >> 2);
}

/* The first min(len, 8) bytes of s in lower case, zero-padded. Loads stay
 * inside s[0..len): for 4 to 7 bytes two overlapping 4-byte loads, whose
 * common bytes are the same bytes at the same places. */
static inline uint64_t rl_name_word(const char *s, size_t len)
{
    uint64_t x = 0;
    if (len >= 8) {
        x = rl_name_le64(s);
    }
    else if (len >= 4) {
        x = rl_name_le32(s) | (rl_name_le32(s + len - 4) << (8 * (len - 4)));
    }
    else {
        for (size_t i = 0; i < len; i++) {
            x |= (uint64_t)(unsigned char)s[i] << (8 * i);
        }
    }
    return rl_name_lower8(x);
}

/* The bits of a word that hold the first min(len, 8) bytes. */
static inline uint64_t rl_name_mask(size_t len)
{
    return len >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * len)) - 1;
}

/* ASCII case-insensitive equality of a[0..n) and b[0..n). */
static inline int rl_name_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x != y) {
            if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
            if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
            if (x != y) return 0;
        }
    }
    return 1;
}

/* The last 8 of the first len bytes of s (len >= 8) in lower case: with
 * the word, names of 9 to 16 bytes (most header names) are compared in
 * two steps. */
static inline uint64_t rl_name_tail(const char *s, size_t len)
{
    return rl_name_lower8(rl_name_le64(s + len - 8));
}

/* Whether a and b, both len > 8 bytes long and equal (ignoring case) in
 * their first 8 bytes, are equal; b_tail is rl_name_tail(b, len). */
static inline int rl_name_rest_equal(const char *a, const char *b,
                                     size_t len, uint64_t b_tail)
{
    if (len <= 16) return rl_name_tail(a, len) == b_tail;
    return rl_name_equal(a + 8, b + 8, len - 8);
}

/* A name to compare others with: its bytes, length, word and tail. */
typedef struct {
    const char *name;
    size_t len;
    uint64_t word;
    uint64_t tail;      /* rl_name_tail when len > 8 */
} rl_name_key;

static inline void rl_name_key_init(rl_name_key *k, const char *name,
                                    size_t len)
{
    k->name = name;
    k->len = len;
    k->word = rl_name_word(name, len);
    k->tail = len > 8 ? rl_name_tail(name, len) : 0;
}

/* Whether name (len bytes, its word) is k's name, ignoring case. */
static inline int rl_name_is(const rl_name_key *k, const char *name,
                             size_t len, uint64_t word)
{
    return len == k->len && word == k->word
           && (len <= 8 || rl_name_rest_equal(name, k->name, len, k->tail));
}

#endif /* RL_HEADER_NAME_H */
