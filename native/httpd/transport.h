/*
 * transport: one non-blocking UNIX socket per child process and receiver
 * path, shared by the child's threads, with optional batching. See
 * transport.c for the invariants.
 */
#ifndef RL_TRANSPORT_H
#define RL_TRANSPORT_H

#include "httpd.h"
#include "apr_pools.h"

typedef enum {
    RL_SOCK_SEQPACKET = 1, /* default: connection-oriented, message boundaries kept */
    RL_SOCK_DGRAM = 2      /* connected datagrams: bounded by net.unix.max_dgram_qlen */
} rl_sock_type;

typedef enum {
    RL_SENT = 0,     /* sent, or queued in the batch */
    RL_DROP_DOWN,    /* no receiver: absent, refused, or backing off */
    RL_DROP_FULL,    /* receiver not keeping up: send buffer / queue full */
    RL_DROP_TOOBIG,  /* larger than the socket accepts (EMSGSIZE) */
    RL_DROP_ERROR    /* any other send error */
} rl_send_result;

/* Each thread's batch: a message of whole records, each ending in '\n', of
 * at most this many bytes; a larger record is sent alone. */
#define RL_BATCH_CAP 16384
/* The flusher's messages gather several threads' batches, up to this many
 * bytes: the most a receiver reads in one message (the receiver contract;
 * the product's receiver drops larger ones). */
#define RL_MESSAGE_CAP 65536

typedef struct rl_transport rl_transport;

/* Per-child counters, in records; read with rl_transport_get_stats. */
typedef struct rl_transport_stats {
    apr_uint64_t sent;
    apr_uint64_t dropped_down;
    apr_uint64_t dropped_full;
    apr_uint64_t dropped_toobig;
    apr_uint64_t dropped_error;
    apr_uint64_t messages;        /* sends that succeeded */
    apr_uint64_t connects;
    apr_uint64_t batches;         /* per-thread batches allocated */
    apr_uint64_t batch_reuses;    /* taken over from threads that exited */
} rl_transport_stats;

/* child_init (pchild lives as long as the child). `s`: the server warnings
 * are logged against. `sndbuf` 0 keeps the system default.
 * `flush_interval` 0 sends each record as its own message; otherwise
 * records are batched and a batch waits at most this long. */
rl_transport *rl_transport_create(apr_pool_t *pchild, server_rec *s,
                                  const char *path, rl_sock_type type,
                                  int sndbuf,
                                  apr_interval_time_t flush_interval);

/* child_init: first connection attempt (a failure only schedules a retry)
 * and, when batching, the flusher thread. */
void rl_transport_open(rl_transport *t);

/* Any request thread. rec must end in '\n'. Never blocks on the receiver
 * nor on other request threads: a record that cannot go is dropped and
 * counted, with a rate-limited warning. */
rl_send_result rl_transport_send(rl_transport *t, const char *rec,
                                 apr_size_t len, apr_time_t now);

/* Any request thread, before building a record: 1 when it would be
 * dropped at once (closed, or backing off after a failed connect), in
 * which case it is counted as dropped (and warned about) here and need not
 * be built; else 0. */
int rl_transport_drop_early(rl_transport *t);

/* Any request thread: a buffer of at least `size` bytes that belongs to
 * this thread, to build a record in before rl_transport_send takes it
 * (valid until the thread's next call); NULL when none can be had (the
 * caller then uses its request pool). When batching, it is the free end
 * of the thread's batch, where rl_transport_send leaves the record in
 * place instead of copying it. `now`: see rl_transport_send. */
char *rl_transport_record_buffer(rl_transport *t, apr_size_t size);

/* Child exit: stops the flusher, sends what is queued, closes. Idempotent;
 * also run by the child pool's cleanup. */
void rl_transport_close(rl_transport *t);

void rl_transport_get_stats(rl_transport *t, rl_transport_stats *out);
const char *rl_transport_path(const rl_transport *t);

#endif /* RL_TRANSPORT_H */
