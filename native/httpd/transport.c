/*
 * transport: delivers finished records to the receiver's UNIX socket.
 *
 * Invariants
 *  - A request never waits on the receiver: the socket is non-blocking,
 *    sends use MSG_DONTWAIT | MSG_NOSIGNAL, connect() on a non-blocking
 *    UNIX socket completes or fails at once (EAGAIN when the listener's
 *    backlog is full, which we treat as a failure).
 *  - Failures are absorbed here: a record that cannot be sent is dropped and
 *    counted, a warning with a stable id goes to the error log at most once
 *    per RL_WARN_INTERVAL per socket and child, and the connection is retried
 *    with exponential backoff (RL_BACKOFF_MIN .. RL_BACKOFF_MAX).
 *  - One socket per child and receiver path, shared by the child's threads
 *    under a mutex that is held only for one non-blocking send; nothing that
 *    can block (logging) runs under it.
 *  - SOCK_SEQPACKET (default): each send is one message. The kernel checks
 *    the receiving queue length (net.unix.max_dgram_qlen) only for senders
 *    the receiver is not connected back to; an accepted SEQPACKET socket is,
 *    so the only limit is this socket's send buffer (SO_SNDBUF): that is the
 *    flow control, and EAGAIN means the receiver fell behind by a full buffer.
 *  - Sockets are close-on-exec so that CGI children do not inherit them.
 */
#include "transport.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern module AP_MODULE_DECLARE_DATA reqin_log_module;
APLOG_USE_MODULE(reqin_log);

/* Stable message ids, in the spirit of httpd's APLOGNO(). */
#define RQLOGNO(n) "RQL" #n ": "

#define RL_WARN_INTERVAL apr_time_from_sec(60)
#define RL_BACKOFF_MIN   apr_time_from_msec(100)
#define RL_BACKOFF_MAX   apr_time_from_sec(2)

struct rl_transport {
    const char *path;
    rl_sock_type type;
    int sndbuf;
    server_rec *s;
    apr_thread_mutex_t *mutex;   /* NULL under prefork */

    /* Guarded by mutex: */
    int fd;                      /* -1 when not connected */
    apr_time_t retry_at;         /* no connect attempt before this */
    apr_interval_time_t backoff;
    int last_err;                /* errno of the last failed connect */
    apr_time_t last_warn;        /* 0: never warned */
    apr_uint64_t dropped_since_warn;
    rl_transport_stats stats;

    struct sockaddr_un addr;
    socklen_t addr_len;
};

/* What to log once the mutex is released. */
typedef struct {
    int level;              /* 0: nothing */
    const char *what;
    int err;
    apr_uint64_t dropped;
} rl_note;

rl_transport *rl_transport_create(apr_pool_t *pchild, server_rec *s,
                                  const char *path, rl_sock_type type,
                                  int sndbuf, int threaded)
{
    rl_transport *t = apr_pcalloc(pchild, sizeof(*t));
    t->path = apr_pstrdup(pchild, path);
    t->type = type;
    t->sndbuf = sndbuf;
    t->s = s;
    t->fd = -1;
    t->backoff = RL_BACKOFF_MIN;
    t->addr.sun_family = AF_UNIX;
    /* the length was checked when ReqinLogSocket was read */
    apr_cpystrn(t->addr.sun_path, path, sizeof(t->addr.sun_path));
    t->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path)
                              + strlen(t->addr.sun_path) + 1);
    if (threaded
        && apr_thread_mutex_create(&t->mutex, APR_THREAD_MUTEX_DEFAULT,
                                   pchild) != APR_SUCCESS) {
        t->mutex = NULL;   /* unreachable in practice; see rl_lock */
    }
    return t;
}

const char *rl_transport_path(const rl_transport *t)
{
    return t->path;
}

static void rl_lock(rl_transport *t)
{
    if (t->mutex) apr_thread_mutex_lock(t->mutex);
}

static void rl_unlock(rl_transport *t)
{
    if (t->mutex) apr_thread_mutex_unlock(t->mutex);
}

/* Under the mutex. Returns 0 when connected. */
static int rl_connect_locked(rl_transport *t, apr_time_t now, int *err)
{
    int type = t->type == RL_SOCK_DGRAM ? SOCK_DGRAM : SOCK_SEQPACKET;
    int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        goto failed;
    }
    if (t->sndbuf > 0) {
        /* capped by net.core.wmem_max; a failure keeps the default */
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &t->sndbuf,
                         sizeof(t->sndbuf));
    }
    if (connect(fd, (struct sockaddr *)&t->addr, t->addr_len) != 0) {
        *err = errno;
        close(fd);
        goto failed;
    }
    t->fd = fd;
    t->backoff = RL_BACKOFF_MIN;
    t->retry_at = 0;
    t->stats.connects++;
    return 0;

failed:
    t->last_err = *err;
    t->retry_at = now + t->backoff;
    t->backoff = t->backoff * 2 > RL_BACKOFF_MAX ? RL_BACKOFF_MAX
                                                 : t->backoff * 2;
    return -1;
}

/* Under the mutex: count a drop and decide whether to warn now. */
static void rl_drop_locked(rl_transport *t, apr_time_t now, rl_note *note,
                           const char *what, int err)
{
    t->dropped_since_warn++;
    if (t->last_warn == 0 || now - t->last_warn >= RL_WARN_INTERVAL) {
        note->level = APLOG_WARNING;
        note->what = what;
        note->err = err;
        note->dropped = t->dropped_since_warn;
        t->dropped_since_warn = 0;
        t->last_warn = now;
    }
}

static void rl_log_note(rl_transport *t, const rl_note *note)
{
    if (!note->level) return;
    ap_log_error(APLOG_MARK, note->level, APR_FROM_OS_ERROR(note->err), t->s,
                 RQLOGNO(00010) "%" APR_UINT64_T_FMT " record(s) dropped "
                 "since the last warning (pid %" APR_PID_T_FMT "): %s %s; "
                 "requests are not affected, next warning in 60s at most",
                 note->dropped, getpid(), note->what, t->path);
}

void rl_transport_open(rl_transport *t)
{
    int err = 0;
    apr_time_t now = apr_time_now();
    rl_lock(t);
    if (t->fd < 0 && rl_connect_locked(t, now, &err) != 0) {
        rl_unlock(t);
        /* not a drop yet: say once at info level that we will retry */
        ap_log_error(APLOG_MARK, APLOG_INFO, APR_FROM_OS_ERROR(err), t->s,
                     RQLOGNO(00011) "receiver socket %s not reachable at "
                     "child start, retrying in the background", t->path);
        return;
    }
    rl_unlock(t);
}

rl_send_result rl_transport_send(rl_transport *t, const char *buf,
                                 apr_size_t len)
{
    rl_send_result res;
    rl_note note = { 0 };
    int err = 0;
    apr_time_t now = apr_time_now();

    rl_lock(t);
    if (t->fd < 0) {
        if (now < t->retry_at || rl_connect_locked(t, now, &err) != 0) {
            t->stats.dropped_down++;
            rl_drop_locked(t, now, &note, "cannot connect to the receiver "
                           "socket", err ? err : t->last_err);
            res = RL_DROP_DOWN;
            goto done;
        }
    }
    for (int attempt = 0; ; attempt++) {
        ssize_t n = send(t->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
            t->stats.sent++;
            res = RL_SENT;
            goto done;
        }
        err = errno;
        if (err == EINTR && attempt < 2) {
            continue;
        }
        if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
            t->stats.dropped_full++;
            rl_drop_locked(t, now, &note, "the receiver is not keeping up "
                           "(send buffer full) on", err);
            res = RL_DROP_FULL;
            goto done;
        }
        if (err == EMSGSIZE) {
            t->stats.dropped_toobig++;
            rl_drop_locked(t, now, &note, "record larger than the socket "
                           "accepts (lower ReqinLogMaxRecordSize) on", err);
            res = RL_DROP_TOOBIG;
            goto done;
        }
        /* EPIPE, ECONNRESET, ENOTCONN, ECONNREFUSED (datagram peer gone):
         * the receiver went away. Reconnect once right now, since a
         * restarted receiver is the common case; else back off. */
        close(t->fd);
        t->fd = -1;
        t->backoff = RL_BACKOFF_MIN;
        if (attempt == 0 && rl_connect_locked(t, now, &err) == 0) {
            continue;
        }
        t->stats.dropped_down++;
        rl_drop_locked(t, now, &note, "lost the connection to the receiver "
                       "socket", err);
        res = RL_DROP_DOWN;
        goto done;
    }

done:
    rl_unlock(t);
    rl_log_note(t, &note);
    return res;
}

void rl_transport_get_stats(rl_transport *t, rl_transport_stats *out)
{
    rl_lock(t);
    *out = t->stats;
    rl_unlock(t);
}
