/*
 * transport: one non-blocking UNIX socket per child process and receiver
 * path, shared by the child's threads. See transport.c for the invariants.
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
    RL_SENT = 0,
    RL_DROP_DOWN,    /* no receiver: absent, refused, or backing off */
    RL_DROP_FULL,    /* receiver not keeping up: send buffer / queue full */
    RL_DROP_TOOBIG,  /* larger than the socket accepts (EMSGSIZE) */
    RL_DROP_ERROR    /* any other send error */
} rl_send_result;

typedef struct rl_transport rl_transport;

/* Per-child counters; read with rl_transport_stats. */
typedef struct rl_transport_stats {
    apr_uint64_t sent;
    apr_uint64_t dropped_down;
    apr_uint64_t dropped_full;
    apr_uint64_t dropped_toobig;
    apr_uint64_t dropped_error;
    apr_uint64_t connects;
} rl_transport_stats;

/* Called from child_init (pchild lives as long as the child). `s` is the
 * server that warnings are logged against. `sndbuf` 0 keeps the system
 * default. `threaded` adds a mutex (always, in mod_reqin_log: mod_http2
 * has threads even under prefork). */
rl_transport *rl_transport_create(apr_pool_t *pchild, server_rec *s,
                                  const char *path, rl_sock_type type,
                                  int sndbuf, int threaded);

/* First connection attempt (child_init); failures only schedule a retry. */
void rl_transport_open(rl_transport *t);

/* Any thread. Never blocks: a record that cannot go now is dropped and
 * counted, with a rate-limited warning. */
rl_send_result rl_transport_send(rl_transport *t, const char *buf,
                                 apr_size_t len);

void rl_transport_get_stats(rl_transport *t, rl_transport_stats *out);
const char *rl_transport_path(const rl_transport *t);

#endif /* RL_TRANSPORT_H */
