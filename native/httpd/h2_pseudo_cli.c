/* Drives h2_pseudo.c from test/httpd-h2-pseudo.test.ts: reads a client's
 * HTTP/2 byte stream (from the preface on) on stdin, feeds it in pieces of
 * argv[1] bytes (default: all at once), then prints one line per stream
 * remembered, oldest first: "STREAM m,s,a,p", and "stopped: WHY" if the
 * parser stopped. */
#include <stdio.h>
#include <stdlib.h>

#include "h2_pseudo.h"

int main(int argc, char **argv)
{
    size_t piece = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 0;
    size_t cap = 1 << 16, len = 0, n;
    unsigned char *buf = malloc(cap);
    rl_h2_parser *p = rl_h2_new();
    if (buf == NULL || p == NULL) return 2;
    while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (buf == NULL) return 2;
        }
    }
    if (piece == 0) piece = len ? len : 1;
    for (size_t off = 0; off < len; off += piece) {
        (void)rl_h2_feed(p, buf + off, len - off < piece ? len - off : piece);
    }
    for (uint32_t s = 1; s < (1u << 16); s++) {
        char order[RL_H2_ORDER_MAX];
        int k = rl_h2_lookup(p, s, order);
        if (k < 0) continue;
        printf("%u ", (unsigned)s);
        for (int i = 0; i < k; i++) printf(i ? ",%c" : "%c", order[i]);
        printf("\n");
    }
    if (rl_h2_error(p)) printf("stopped: %s\n", rl_h2_error(p));
    rl_h2_free(p);
    free(buf);
    return 0;
}
