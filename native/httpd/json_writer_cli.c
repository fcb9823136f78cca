/*
 * json_writer_cli: drives json_writer from the tests.
 *
 *   json_writer_cli MAX_IN CAP < bytes
 *
 * Reads stdin whole and prints {"s":<the bytes as a JSON string, at most
 * MAX_IN input bytes, in a writer of CAP bytes>,"truncated":0|1,"len":N}
 * on one line, N being the string's output length in bytes. Exits 3 when
 * the string did not fit at all.
 */
#include "json_writer.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    size_t max_in = argc > 1 ? strtoul(argv[1], NULL, 10) : 1 << 20;
    size_t cap = argc > 2 ? strtoul(argv[2], NULL, 10) : 1 << 24;
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
    if (rl_json_str(&w, in, n, max_in, 0, &cut) != 0) {
        return 3;
    }
    printf("{\"s\":%.*s,\"truncated\":%d,\"len\":%zu}\n", (int)w.len, w.buf,
           cut, w.len);
    return 0;
}
