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

/* Raw bytes (punctuation, keys the caller knows to be safe). All or nothing:
 * 0 on success, -1 when they do not fit (nothing written). Inline: the
 * record writes dozens of these, most one or two bytes long. */
static inline int rl_json_raw(rl_json *w, const char *s, size_t n)
{
    if (n > w->limit - w->len) {
        return -1;
    }
    if (n <= 2) {
        if (n > 0) w->buf[w->len] = s[0];
        if (n > 1) w->buf[w->len + 1] = s[1];
    }
    else {
        memcpy(w->buf + w->len, s, n);
    }
    w->len += n;
    return 0;
}

/* A string literal: its length is known at compile time. */
#define RL_JSON_LIT(w, lit) rl_json_raw((w), (lit), sizeof(lit) - 1)

int rl_json_lit(rl_json *w, const char *s); /* rl_json_raw with strlen */

/* Decimal integers, all or nothing. */
int rl_json_u64(rl_json *w, uint64_t v);
int rl_json_i64(rl_json *w, int64_t v);

/* A quoted, escaped JSON string from n input bytes, of which at most max_in
 * are used (a multi-byte character straddling max_in is left out whole).
 * When the escaped text does not fit in the space left, fewer characters are
 * written. *truncated (may be NULL) is set to 1 when any input was left out,
 * else 0. Returns 0, or -1 when not even "" fits (nothing written).
 * If lower is non-zero, ASCII letters are written in lower case. */
int rl_json_str(rl_json *w, const char *s, size_t n, size_t max_in,
                int lower, int *truncated);

/* Escape without quotes into out (room bytes). Consumes whole characters
 * only; returns bytes written and sets *consumed to the input bytes used. */
size_t rl_json_escape(char *out, size_t room, const unsigned char *in,
                      size_t n, int lower, size_t *consumed);

/* Length of the well-formed UTF-8 sequence at in[0..n), or 0 if in[0]
 * does not start one (RFC 3629 section 4). */
size_t rl_utf8_seq_len(const unsigned char *in, size_t n);

#endif /* RL_JSON_WRITER_H */
