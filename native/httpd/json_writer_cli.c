/*
 * json_writer_cli: drives json_writer from the tests.
 *
 *   json_writer_cli MAX_IN CAP [lower] < bytes
 *   json_writer_cli --u64|--i64 CAP < numbers
 *
 * Reads stdin whole and prints {"s":<the bytes as a JSON string, at most
 * MAX_IN input bytes, in a writer of CAP bytes>,"truncated":0|1,"len":N}
 * on one line, N being the string's output length in bytes; with `lower`,
 * ASCII letters written in lower case. Exits 3 when the string did not fit
 * at all. With --u64 or --i64: one decimal number per input line, each
 * written by rl_json_u64 / rl_json_i64 into a writer of CAP bytes and
 * printed on its own line ("-" when it did not fit).
 *
 * Every input is also written by the unchecked writers (json_unchecked.h)
 * wherever the checked ones cut nothing: the two outputs must be the same
 * bytes, else the CLI exits 4 (strings) or prints "MISMATCH" (numbers).
 */
#include "json_writer.h"
#include "json_unchecked.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int numbers(int is_signed, size_t cap)
{
    char line[64], out[64];
    while (fgets(line, sizeof(line), stdin) != NULL) {
        rl_json w;
        int rc;
        rl_json_init(&w, out, cap < sizeof(out) ? cap : sizeof(out));
        rc = is_signed ? rl_json_i64(&w, (int64_t)strtoll(line, NULL, 10))
                       : rl_json_u64(&w, (uint64_t)strtoull(line, NULL, 10));
        if (rc != 0) {
            puts("-");
        }
        else {
            char fast[32];
            int64_t sv = (int64_t)strtoll(line, NULL, 10);
            char *end = is_signed ? rl_put_i64(fast, sv)
                                  : rl_put_u64(fast, (uint64_t)strtoull(line, NULL, 10));
            if ((size_t)(end - fast) != w.len || memcmp(fast, w.buf, w.len) != 0) {
                puts("MISMATCH");
                continue;
            }
            printf("%.*s\n", (int)w.len, w.buf);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--u64") == 0
                     || strcmp(argv[1], "--i64") == 0)) {
        return numbers(argv[1][2] == 'i',
                       argc > 2 ? strtoul(argv[2], NULL, 10) : 64);
    }
    size_t max_in = argc > 1 ? strtoul(argv[1], NULL, 10) : 1 << 20;
    size_t cap = argc > 2 ? strtoul(argv[2], NULL, 10) : 1 << 24;
    int lower = argc > 3 && strcmp(argv[3], "lower") == 0;
    size_t n = 0, room = 1 << 16;
    char *in = malloc(room);
    size_t got;
    while (in && (got = fread(in + n, 1, room - n, stdin)) > 0) {
        n += got;
        if (n == room) in = realloc(in, room *= 2);
    }
    char *out = malloc(cap ? cap : 1);
    if (!in || !out) return 1;

    rl_json w;
    int cut = 0;
    rl_json_init(&w, out, cap);
    if (rl_json_str(&w, in, n, max_in, lower, &cut) != 0) {
        return 3;
    }
    if (n <= max_in && cap >= 2 + RL_JSON_MAX_EXPANSION * n) {
        /* nothing cut: the unchecked writer must agree byte for byte */
        char *fast = malloc(2 + RL_JSON_MAX_EXPANSION * n);
        size_t flen;
        if (!fast) return 1;
        flen = (size_t)(rl_put_str(fast, in, n, lower) - fast);
        if (cut || flen != w.len || memcmp(fast, w.buf, flen) != 0) {
            fprintf(stderr, "unchecked writer differs: %.*s\n", (int)flen, fast);
            return 4;
        }
        free(fast);
    }
    printf("{\"s\":%.*s,\"truncated\":%d,\"len\":%zu}\n", (int)w.len, w.buf,
           cut, w.len);
    return 0;
}
