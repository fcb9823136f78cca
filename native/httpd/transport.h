/*
 * transport: one non-blocking UNIX socket per child process and receiver
 * path, shared by the child's threads, with optional batching (records
 * appended to one message per CPU, sent when full or due). See
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
    RL_SENT = 0,     /* sent, or queued in a message */
    RL_DROP_DOWN,    /* no receiver: absent, refused, or backing off */
    RL_DROP_FULL,    /* receiver not keeping up: send buffer / queue full */
    RL_DROP_TOOBIG,  /* larger than the socket accepts (EMSGSIZE) */
    RL_DROP_ERROR    /* any other send error */
} rl_send_result;

/* A CPU's message being filled (batching): whole records, each ending
 * in '\n', of at most this many bytes, the most a receiver reads in one
 * message (the receiver contract; the product's receiver drops larger
 * ones), or fewer when the socket's send buffer is smaller. A larger
 * record is sent alone. */
#define RL_MESSAGE_CAP 65536

typedef struct rl_transport rl_transport;
typedef struct rl_msg rl_msg;
typedef struct rl_slot rl_slot;

/* A record being written in place at the end of its CPU's message
 * (rl_transport_reserve .. rl_transport_commit). */
typedef struct {
    rl_slot *slot;    /* the CPU's message slot (rl_transport_prefetch), or
                       * NULL: the current CPU's */
    rl_msg *msg;      /* the message it goes into */
    rl_msg *full;     /* the message detached to make room, or NULL: sent
                       * by rl_transport_commit, after the lock */
} rl_append;

/* Per-child counters, in records; read with rl_transport_get_stats. */
typedef struct rl_transport_stats {
    apr_uint64_t sent;
    apr_uint64_t dropped_down;
    apr_uint64_t dropped_full;
    apr_uint64_t dropped_toobig;
    apr_uint64_t dropped_error;
    apr_uint64_t messages;        /* sends that succeeded */
    apr_uint64_t connects;
    apr_uint64_t batches;         /* per-thread record buffers allocated */
    apr_uint64_t batch_reuses;    /* taken over from threads that exited */
} rl_transport_stats;

/* child_init (pchild lives as long as the child). `s`: the server warnings
 * are logged against. `sndbuf` 0 keeps the system default.
 * `flush_interval` 0 sends each record as its own message; otherwise
 * records are batched and a record waits at most this long.
 * `threads`: the MPM's request threads per child, which bounds the
 * messages kept per CPU (see rl_slots_create). */
rl_transport *rl_transport_create(apr_pool_t *pchild, server_rec *s,
                                  const char *path, rl_sock_type type,
                                  int sndbuf,
                                  apr_interval_time_t flush_interval,
                                  int threads);

/* child_init: first connection attempt (a failure only schedules a retry)
 * and, when batching, the flusher thread. */
void rl_transport_open(rl_transport *t);

/* Any request thread: a record built elsewhere (rec must end in '\n'),
 * appended to its CPU's message (a copy) or sent alone. Never blocks on
 * the receiver, and on other request threads only for the append lock's
 * copy: a record that cannot go is dropped and counted, with a
 * rate-limited warning. */
rl_send_result rl_transport_send(rl_transport *t, const char *rec,
                                 apr_size_t len, apr_time_t now);

/* Any request thread, before building a record: 1 when it would be
 * dropped at once (closed, or backing off after a failed connect), in
 * which case it is counted as dropped (and warned about) here and need not
 * be built; else 0. */
int rl_transport_drop_early(rl_transport *t);

/* Any request thread, when batching: takes the append lock of its CPU's
 * message and returns where a record of at most `size` bytes goes, the end
 * of that message (a full one is detached first, to be sent by
 * rl_transport_commit; a->slot: from rl_transport_prefetch, or NULL);
 * NULL, with nothing locked, when not batching,
 * closed, or `size` is more than the socket's message cap (RL_MESSAGE_CAP,
 * less when the send buffer is smaller). The caller writes the
 * record there and calls rl_transport_commit at once: the lock is held in
 * between, so only straight-line writing belongs there. */
char *rl_transport_reserve(rl_transport *t, apr_size_t size, rl_append *a);

/* Any request thread, when batching, before looking up what its record
 * says: prefetches the lines of the message where rl_transport_reserve
 * will most likely put it, so that their cache misses overlap that work
 * instead of stalling the writes under the lock. */
void rl_transport_prefetch(rl_transport *t, rl_append *a);

/* Ends rl_transport_reserve: the record's `len` bytes (ending in '\n')
 * join the message, the lock is released, then a detached full message is
 * sent. */
void rl_transport_commit(rl_transport *t, rl_append *a, apr_size_t len,
                         apr_time_t now);

/* Any request thread: a buffer of at least `size` bytes that belongs to
 * this thread, to build a record in before rl_transport_send takes it
 * (valid until the thread's next call): for records not written in place
 * (rl_transport_reserve returned NULL, or the checked writer); NULL when
 * none can be had (the caller then uses its request pool). */
char *rl_transport_record_buffer(rl_transport *t, apr_size_t size);

/* Child exit: stops the flusher, sends what is queued, closes. Idempotent;
 * also run by the child pool's cleanup. */
void rl_transport_close(rl_transport *t);

void rl_transport_get_stats(rl_transport *t, rl_transport_stats *out);
const char *rl_transport_path(const rl_transport *t);

#endif /* RL_TRANSPORT_H */
