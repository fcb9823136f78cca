/*
 * json_unchecked: JSON writers that do not check for room, for a record
 * whose worst case is known to fit. record.c checks once per record,
 * before writing, that the output cannot exceed its buffer (every input
 * byte of a string becomes at most 6 output bytes: `\u00XX`, `\ufffd`),
 * then writes every field with these instead of json_writer.h's checked,
 * all-or-nothing writers, which test the room, keep a rollback mark and
 * report truncation for each of the ~40 pieces of a record.
 *
 * Invariants
 *  - For the same input, the bytes written are exactly those of the
 *    checked writers when nothing is cut (json_writer_cli compares the two
 *    on every input of the writer's tests).
 *  - Each writer takes the output position and returns the new one; it
 *    writes nothing outside out[0..returned), and reads nothing outside its
 *    input (the 16-, 8- and 4-byte loads overlap inside it).
 *  - A string with a byte to escape or check (rare: control bytes, quotes,
 *    non-ASCII) goes through the same escaper as the checked writer.
 * Plain C11, no APR.
 */
#ifndef RL_JSON_UNCHECKED_H
#define RL_JSON_UNCHECKED_H

#include "json_writer.h"

/* Worst-case output bytes per input byte of a string. */
#define RL_JSON_MAX_EXPANSION 6

/* A string literal (its length known at compile time: a few moves). */
#define RL_PUT_LIT(o, lit) \
    (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

/* Copies s[0..n) to o when no byte of it needs escaping or checking, 16
 * bytes per step (the check and the copy in one pass); returns 1, or 0
 * (o[0..n) partly written) when one does. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int rl_put_plain(char *o, const char *s, size_t n)
{
#if defined(__SSE2__)
    if (n >= 16) {
        size_t i = 0;
        __m128i v;
        for (; i + 16 <= n; i += 16) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            if (rl_json_special_mask(v) != 0) return 0;
            _mm_storeu_si128((__m128i *)(void *)(o + i), v);
        }
        if (i < n) {
            v = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
            if (rl_json_special_mask(v) != 0) return 0;
            _mm_storeu_si128((__m128i *)(void *)(o + n - 16), v);
        }
        return 1;
    }
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (rl_json_special_mask(_mm_set_epi64x((long long)b, (long long)a)) != 0) {
            return 0;
        }
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &b, 8);
        return 1;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        /* lanes 8-15 are zero, which counts as special: masked off */
        if ((rl_json_special_mask(_mm_set_epi32(0, 0, (int)b, (int)a)) & 0xff) != 0) {
            return 0;
        }
        memcpy(o, &a, 4);
        memcpy(o + n - 4, &b, 4);
        return 1;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        if (rl_json_byte_special((unsigned char)s[i])) return 0;
        o[i] = s[i];
    }
    return 1;
}

/* The escaping path of rl_put_str: out of line, rarely taken. */
char *rl_put_str_escaped(char *o, const char *s, size_t n, int lower);

/* "s[0..n)", escaped as rl_json_str does; lower: ASCII letters in lower
 * case. Room needed: 2 + RL_JSON_MAX_EXPANSION * n. */
static inline char *rl_put_str(char *o, const char *s, size_t n, int lower)
{
    if (!rl_put_plain(o + 1, s, n)) {
        return rl_put_str_escaped(o, s, n, lower);
    }
    o[0] = '"';
    if (lower) rl_json_lower(o + 1, n);
    o[n + 1] = '"';
    return o + n + 2;
}

/* A decimal integer, as rl_json_u64 / rl_json_i64 write it (at most 20
 * bytes; 21 with a sign). */
char *rl_put_u64(char *o, uint64_t v);

static inline char *rl_put_i64(char *o, int64_t v)
{
    if (v >= 0) return rl_put_u64(o, (uint64_t)v);
    *o = '-';
    /* -(v + 1) + 1 avoids overflow on INT64_MIN */
    return rl_put_u64(o + 1, (uint64_t)(-(v + 1)) + 1);
}

#endif /* RL_JSON_UNCHECKED_H */
