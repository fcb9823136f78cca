/*
 * transport: delivers finished records to the receiver's UNIX socket.
 *
 * Invariants
 *  - A request never waits on the receiver: the socket is non-blocking,
 *    sends use MSG_DONTWAIT | MSG_NOSIGNAL, and connect() on a non-blocking
 *    UNIX socket completes or fails at once (EAGAIN when the listener's
 *    backlog is full, which counts as a failure).
 *  - A request never waits on another request either: no lock is shared by
 *    request threads on the hot path. Each thread has its own batch (its
 *    own mutex, which only the flusher thread and child exit ever contend
 *    for); the connection state, counters and warning times are atomics;
 *    the only shared lock (conn_mutex) guards reconnecting and is taken
 *    with trylock, at most once per backoff period. Under a CPU-starved
 *    server a shared lock turns into convoys (its holder preempted, every
 *    other worker sleeping on it): measured, hence this design.
 *  - The socket's descriptor number never changes: reconnecting dup2()s a
 *    freshly connected socket onto it. Threads may send concurrently (each
 *    send is one whole message) and never race a close(): a send goes to
 *    the old connection or to the new one.
 *  - Failures are absorbed here: a record that cannot be sent is dropped and
 *    counted, a warning with a stable id goes to the error log at most once
 *    per RL_WARN_INTERVAL per socket, child and kind of failure (no
 *    receiver, receiver behind, too large), and the connection is retried
 *    with exponential backoff (RL_BACKOFF_MIN .. RL_BACKOFF_MAX). While
 *    backing off, records are dropped before any copy or syscall (and,
 *    through rl_transport_drop_early, before they are built).
 *  - Batching (flush_interval > 0): a thread appends records to its batch
 *    of RL_BATCH_CAP bytes and sends it as one message when the next record
 *    would not fit; when some batch's oldest record has waited
 *    flush_interval, the flusher thread gathers every non-empty batch into
 *    messages of up to RL_MESSAGE_CAP bytes (a send per ~100 records
 *    rather than per thread's batch), and it sleeps on a condition
 *    variable while every batch is empty. Records end in '\n', so a
 *    message is a run of JSON lines whichever way it was sent. A record
 *    larger than a batch goes out alone. A thread builds its record in
 *    place at the free end of its batch (rl_transport_record_buffer).
 *  - Bounded per-thread memory: a thread finds its batch (and the buffer it
 *    builds records in) through a pthread key whose destructor hands the
 *    batch back when the thread exits; the next new thread takes it over.
 *    Threads come and go (mod_http2's idle workers stop), so a child holds
 *    as many batches as it had threads logging at once, not ever.
 *  - SOCK_SEQPACKET (default): each send is one message. The kernel checks
 *    the receiving queue length (net.unix.max_dgram_qlen) only for senders
 *    the receiver is not connected back to; an accepted SEQPACKET socket
 *    is, so the only limit is this socket's send buffer (SO_SNDBUF): that is
 *    the flow control, and EAGAIN means the receiver is a full buffer behind.
 *  - Sockets are close-on-exec so that CGI children do not inherit them.
 *
 * Threads: rl_transport_send runs on request threads (MPM workers, and
 * mod_http2's workers); rl_flusher on its own thread; create/open/close on
 * the child's main thread, in child_init and at child exit.
 */
#include "transport.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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
#define RL_KINDS         (RL_DROP_ERROR + 1)

/* One thread's batch. Owned by its thread; the flusher and child exit take
 * its mutex to send it. */
typedef struct rl_batch {
    struct rl_batch *next;       /* registry: append-only, never freed */
    /* 1 while a thread owns the batch; 0 once its thread has exited (the
     * thread key's destructor), when the next new thread takes it over,
     * records still queued in it included. */
    atomic_int owned;
    apr_thread_mutex_t *mutex;
    /* RL_BATCH_CAP bytes of records, then room for one more record in the
     * making (buf_cap in all): the thread builds its next record at
     * buf + len and rl_transport_send leaves it there (see
     * rl_transport_record_buffer). Only the owning thread appends; the
     * flusher only empties. len is atomic so that the owner may read it
     * without the mutex: it then reads its own last value, or 0 if the
     * flusher emptied the batch meanwhile, and builds past what the
     * flusher copies either way. */
    char *buf;
    apr_size_t buf_cap;
    _Atomic apr_size_t len;
    /* Written under the mutex; atomic so that the flusher may read them
     * without it, to pass over the batches that are empty or not due
     * (most of them, with one batch per worker thread) without locking. */
    atomic_uint records;
    _Atomic apr_time_t since;    /* when its oldest record came */
    /* Unbatched (flush_interval 0): the thread's record buffer
     * (rl_transport_record_buffer): records are built here rather than in
     * 16 KiB taken from each request's pool, which costs a fresh allocator
     * block per request. Only its thread touches it. */
    char *rec;
    apr_size_t rec_cap;
} rl_batch;

struct rl_transport {
    const char *path;
    rl_sock_type type;
    int sndbuf;
    server_rec *s;
    apr_pool_t *pool;            /* our own subpool of pchild, for batches */
    apr_interval_time_t flush_interval;   /* 0: a message per record */
    int fd;                      /* stable: see the invariants */

    /* Lock-free state */
    atomic_int connected;
    atomic_int closed;
    _Atomic apr_time_t retry_at; /* no connect attempt before this */
    _Atomic apr_time_t last_warn[RL_KINDS];         /* 0: never warned */
    atomic_uint_least64_t dropped_since_warn[RL_KINDS];
    atomic_uint_least64_t n_sent, n_messages, n_connects;
    atomic_uint_least64_t n_batches, n_batch_reuses;
    atomic_uint_least64_t n_dropped[RL_KINDS];
    _Atomic(rl_batch *) batches; /* registry head */
    atomic_int nonempty;         /* batches holding records */
    atomic_int flusher_idle;     /* the flusher sleeps until signalled */
    atomic_int last_err;         /* errno of the last failed connect */

    /* conn_mutex guards: */
    apr_thread_mutex_t *conn_mutex;
    apr_interval_time_t backoff;

    /* reg_mutex guards batch allocation from `pool` */
    apr_thread_mutex_t *reg_mutex;
    /* Its value in a thread is the thread's batch; its destructor hands
     * the batch back when the thread exits (see rl_batch_release). */
    pthread_key_t batch_key;
    atomic_int has_batch_key;    /* 0 before it exists and once deleted */

    /* flush_mutex + cond: the flusher's sleep; `stopping` */
    apr_thread_mutex_t *flush_mutex;
    apr_thread_cond_t *cond;
    int stopping;
    apr_thread_t *flusher;
    /* the flusher's message: records gathered from the batches */
    char *fmsg;                  /* RL_MESSAGE_CAP bytes */
    apr_size_t fmsg_len;
    apr_uint32_t fmsg_records;

    struct sockaddr_un addr;
    socklen_t addr_len;
};

static apr_status_t rl_transport_cleanup(void *data);
static void rl_batch_release(void *data);

rl_transport *rl_transport_create(apr_pool_t *pchild, server_rec *s,
                                  const char *path, rl_sock_type type,
                                  int sndbuf,
                                  apr_interval_time_t flush_interval)
{
    rl_transport *t = apr_pcalloc(pchild, sizeof(*t));
    int ok;
    t->path = apr_pstrdup(pchild, path);
    t->type = type;
    t->sndbuf = sndbuf;
    t->s = s;
    t->flush_interval = flush_interval;
    t->backoff = RL_BACKOFF_MIN;
    t->addr.sun_family = AF_UNIX;
    /* the length was checked when ReqinLogSocket was read */
    apr_cpystrn(t->addr.sun_path, path, sizeof(t->addr.sun_path));
    t->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path)
                              + strlen(t->addr.sun_path) + 1);
    atomic_init(&t->connected, 0);
    atomic_init(&t->closed, 0);
    atomic_init(&t->retry_at, 0);
    for (int k = 0; k < RL_KINDS; k++) {
        atomic_init(&t->last_warn[k], 0);
        atomic_init(&t->dropped_since_warn[k], 0);
        atomic_init(&t->n_dropped[k], 0);
    }
    atomic_init(&t->n_sent, 0);
    atomic_init(&t->n_messages, 0);
    atomic_init(&t->n_connects, 0);
    atomic_init(&t->n_batches, 0);
    atomic_init(&t->n_batch_reuses, 0);
    atomic_init(&t->batches, NULL);
    atomic_init(&t->nonempty, 0);
    atomic_init(&t->flusher_idle, 0);
    atomic_init(&t->last_err, 0);

    /* An unconnected socket holds the descriptor number until the first
     * connect; sends on it fail (ENOTCONN) like on a lost connection. */
    t->fd = socket(AF_UNIX, (type == RL_SOCK_DGRAM ? SOCK_DGRAM : SOCK_SEQPACKET)
                            | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ok = t->fd >= 0
         && apr_pool_create(&t->pool, pchild) == APR_SUCCESS
         && apr_thread_mutex_create(&t->conn_mutex, APR_THREAD_MUTEX_DEFAULT,
                                    pchild) == APR_SUCCESS
         && apr_thread_mutex_create(&t->reg_mutex, APR_THREAD_MUTEX_DEFAULT,
                                    pchild) == APR_SUCCESS
         && apr_thread_mutex_create(&t->flush_mutex, APR_THREAD_MUTEX_DEFAULT,
                                    pchild) == APR_SUCCESS
         && apr_thread_cond_create(&t->cond, pchild) == APR_SUCCESS;
    /* the key finds each thread's batch: without one (keys exhausted),
     * no batching */
    atomic_init(&t->has_batch_key,
                ok && pthread_key_create(&t->batch_key, rl_batch_release) == 0);
    if (ok && !atomic_load(&t->has_batch_key)) {
        t->flush_interval = 0;
    }
    if (!ok) {
        ap_log_error(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(errno), s,
                     RQLOGNO(00013) "cannot set up the socket for %s: no "
                     "records will be sent from this child", path);
        atomic_store(&t->closed, 1);
        t->flush_interval = 0;
    }
    /* A pre-cleanup: apr_pool_destroy runs pre-cleanups, then destroys
     * subpools (the flusher thread's pool, our batches), then runs cleanups
     * (the mutexes' and cond's). The flusher must be joined before either. */
    apr_pool_pre_cleanup_register(pchild, t, rl_transport_cleanup);
    return t;
}

const char *rl_transport_path(const rl_transport *t)
{
    return t->path;
}

/* ------------------------------------------------------------------ */
/* Warnings and counters                                               */

typedef struct {
    const char *what;
    int err;
    apr_uint64_t dropped;   /* 0: nothing to log */
} rl_note;

/* Counts dropped records; elects at most one thread per kind and
 * RL_WARN_INTERVAL to log (compare-and-swap on the last warning time). */
static void rl_drop(rl_transport *t, apr_time_t now, rl_note *note,
                    rl_send_result kind, apr_uint32_t records,
                    const char *what, int err)
{
    apr_time_t last;
    atomic_fetch_add_explicit(&t->n_dropped[kind], records,
                              memory_order_relaxed);
    atomic_fetch_add(&t->dropped_since_warn[kind], records);
    last = atomic_load(&t->last_warn[kind]);
    if ((last == 0 || now - last >= RL_WARN_INTERVAL)
        && atomic_compare_exchange_strong(&t->last_warn[kind], &last, now)) {
        note->what = what;
        note->err = err;
        note->dropped = atomic_exchange(&t->dropped_since_warn[kind], 0);
    }
}

static void rl_log_note(rl_transport *t, const rl_note *note)
{
    if (note->dropped == 0) return;
    ap_log_error(APLOG_MARK, APLOG_WARNING, APR_FROM_OS_ERROR(note->err), t->s,
                 RQLOGNO(00010) "%" APR_UINT64_T_FMT " record(s) dropped "
                 "since the last warning (pid %" APR_PID_T_FMT "): %s %s; "
                 "requests are not affected, next warning in 60s at most",
                 note->dropped, getpid(), note->what, t->path);
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */

/* Any thread. Returns 1 when connected afterwards. Only one thread tries at
 * a time (trylock: the others drop their record rather than wait). */
static int rl_reconnect(rl_transport *t, apr_time_t now)
{
    int fd, err = 0, type;
    if (apr_thread_mutex_trylock(t->conn_mutex) != APR_SUCCESS) {
        return atomic_load(&t->connected);
    }
    if (atomic_load(&t->connected) || atomic_load(&t->closed)
        || now < atomic_load(&t->retry_at)) {
        int c = atomic_load(&t->connected);
        apr_thread_mutex_unlock(t->conn_mutex);
        return c;
    }
    type = t->type == RL_SOCK_DGRAM ? SOCK_DGRAM : SOCK_SEQPACKET;
    fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = errno;
    }
    else {
        if (t->sndbuf > 0) {
            /* doubled by the kernel, capped by net.core.wmem_max */
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &t->sndbuf,
                             sizeof(t->sndbuf));
        }
        if (connect(fd, (struct sockaddr *)&t->addr, t->addr_len) != 0
            || dup2(fd, t->fd) < 0) {
            err = errno;
        }
        close(fd);
    }
    if (err == 0) {
        t->backoff = RL_BACKOFF_MIN;
        atomic_fetch_add(&t->n_connects, 1);
        atomic_store(&t->connected, 1);
    }
    else {
        atomic_store(&t->last_err, err);
        atomic_store(&t->retry_at, now + t->backoff);
        t->backoff = t->backoff * 2 > RL_BACKOFF_MAX ? RL_BACKOFF_MAX
                                                     : t->backoff * 2;
    }
    apr_thread_mutex_unlock(t->conn_mutex);
    return err == 0;
}

/* Any thread: one message of `records` records. */
static rl_send_result rl_send_message(rl_transport *t, const char *buf,
                                      apr_size_t len, apr_uint32_t records,
                                      apr_time_t now, rl_note *note)
{
    if (!atomic_load(&t->connected) && !rl_reconnect(t, now)) {
        rl_drop(t, now, note, RL_DROP_DOWN, records, "cannot connect to the "
                "receiver socket", atomic_load(&t->last_err));
        return RL_DROP_DOWN;
    }
    for (int attempt = 0; ; attempt++) {
        int err;
        if (send(t->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
            atomic_fetch_add_explicit(&t->n_sent, records, memory_order_relaxed);
            atomic_fetch_add_explicit(&t->n_messages, 1, memory_order_relaxed);
            return RL_SENT;
        }
        err = errno;
        if (err == EINTR && attempt < 2) {
            continue;
        }
        if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
            rl_drop(t, now, note, RL_DROP_FULL, records, "the receiver is not "
                    "keeping up (send buffer full) on", err);
            return RL_DROP_FULL;
        }
        if (err == EMSGSIZE) {
            rl_drop(t, now, note, RL_DROP_TOOBIG, records, "message larger "
                    "than the socket accepts (lower ReqinLogMaxRecordSize or "
                    "raise ReqinLogSendBuffer) on", err);
            return RL_DROP_TOOBIG;
        }
        /* EPIPE, ECONNRESET, ENOTCONN, ECONNREFUSED (datagram peer gone):
         * the receiver went away. Reconnect once right now, since a
         * restarted receiver is the common case; else back off. */
        atomic_store(&t->connected, 0);
        if (attempt == 0) {
            atomic_store(&t->retry_at, 0);
            if (rl_reconnect(t, now)) continue;
        }
        rl_drop(t, now, note, RL_DROP_DOWN, records, "lost the connection to "
                "the receiver socket", err);
        return RL_DROP_DOWN;
    }
}

/* ------------------------------------------------------------------ */
/* Batches                                                             */

/* Thread exit (the batch key's destructor, on the exiting thread): the
 * batch goes back to the registry for the next new thread. Threads come
 * and go (mod_http2 stops idle workers after H2MaxWorkerIdleSeconds and
 * starts new ones on demand): without this, each new thread would add a
 * batch (32 KiB, its record being built included) that nothing frees
 * until the child exits. Records still queued in the batch stay there:
 * the flusher sends them when they are due, as it would have. Only an
 * atomic store: the batch's memory lives as long as the transport's pool,
 * and the key is deleted when the transport closes, before that pool
 * goes. */
static void rl_batch_release(void *data)
{
    rl_batch *b = data;
    atomic_store(&b->owned, 0);
}

/* Request thread: a batch no thread owns, taken over, or NULL. */
static rl_batch *rl_reuse_batch(rl_transport *t)
{
    for (rl_batch *b = atomic_load(&t->batches); b; b = b->next) {
        int free_mark = 0;
        if (atomic_load(&b->owned) == 0
            && atomic_compare_exchange_strong(&b->owned, &free_mark, 1)) {
            atomic_fetch_add_explicit(&t->n_batch_reuses, 1,
                                      memory_order_relaxed);
            return b;
        }
    }
    return NULL;
}

/* Request thread: this thread's batch, taken over from an exited thread
 * or registered, on first use. Found through the thread key: glibc's
 * pthread_getspecific is a few loads, where a _Thread_local variable of a
 * module loaded with dlopen costs a __tls_get_addr call per access. */
static rl_batch *rl_my_batch(rl_transport *t)
{
    rl_batch *b;
    if (!atomic_load_explicit(&t->has_batch_key, memory_order_relaxed)) {
        return NULL;
    }
    b = pthread_getspecific(t->batch_key);
    if (b != NULL) return b;
    b = rl_reuse_batch(t);
    if (b == NULL) {
        apr_thread_mutex_lock(t->reg_mutex);
        b = apr_pcalloc(t->pool, sizeof(*b));
        atomic_init(&b->owned, 1);
        atomic_init(&b->records, 0);
        atomic_init(&b->since, 0);
        atomic_init(&b->len, 0);
        if (apr_thread_mutex_create(&b->mutex, APR_THREAD_MUTEX_DEFAULT,
                                    t->pool) != APR_SUCCESS) {
            apr_thread_mutex_unlock(t->reg_mutex);
            return NULL;
        }
        b->next = atomic_load(&t->batches);
        atomic_store(&t->batches, b); /* publish: the flusher may walk it */
        apr_thread_mutex_unlock(t->reg_mutex);
        atomic_fetch_add_explicit(&t->n_batches, 1, memory_order_relaxed);
    }
    if (pthread_setspecific(t->batch_key, b) != 0) {
        atomic_store(&b->owned, 0);       /* out of memory: unbatched */
        return NULL;
    }
    return b;
}

/* Request thread: where this thread builds its next record, `size`
 * bytes at least. Batching: the free end of its batch (buf + len), so
 * that rl_transport_send appends the record without copying it, and the
 * record is written next to the records before it rather than into a
 * buffer of its own (one cold region less per request with one batch per
 * worker thread). Unbatched: the thread's record buffer. Either grows when
 * a server with a larger ReqinLogMaxRecordSize shares the socket (the old
 * one stays in the pool: at most a few per thread, as sizes only grow, up
 * to RL_MAX_MAX_RECORD). */
char *rl_transport_record_buffer(rl_transport *t, apr_size_t size)
{
    rl_batch *b;
    if (atomic_load_explicit(&t->closed, memory_order_relaxed)) {
        return NULL;          /* maybe never set up: no pool, no mutexes */
    }
    b = rl_my_batch(t);
    if (b == NULL) {
        return NULL;
    }
    if (t->flush_interval == 0) {
        if (b->rec_cap < size) {
            apr_thread_mutex_lock(t->reg_mutex);
            b->rec = apr_palloc(t->pool, size);
            apr_thread_mutex_unlock(t->reg_mutex);
            b->rec_cap = size;
        }
        return b->rec;
    }
    if (b->buf_cap < RL_BATCH_CAP + size) {
        /* the flusher may be reading the queued records: swap under the
         * batch's mutex (never held with reg_mutex) */
        char *grown;
        apr_thread_mutex_lock(t->reg_mutex);
        grown = apr_palloc(t->pool, RL_BATCH_CAP + size);
        apr_thread_mutex_unlock(t->reg_mutex);
        apr_thread_mutex_lock(b->mutex);
        if (b->buf != NULL) {
            memcpy(grown, b->buf,
                   atomic_load_explicit(&b->len, memory_order_relaxed));
        }
        b->buf = grown;
        b->buf_cap = RL_BATCH_CAP + size;
        apr_thread_mutex_unlock(b->mutex);
    }
    /* len <= RL_BATCH_CAP: a record that would take the batch past it
     * is sent first, and a larger record is never queued */
    return b->buf + atomic_load_explicit(&b->len, memory_order_relaxed);
}

/* Under b->mutex: sends the batch, if any. */
static void rl_flush_batch(rl_transport *t, rl_batch *b, apr_time_t now,
                           rl_note *note)
{
    apr_uint32_t records = atomic_load_explicit(&b->records,
                                                memory_order_relaxed);
    if (records == 0) return;
    (void)rl_send_message(t, b->buf,
                          atomic_load_explicit(&b->len, memory_order_relaxed),
                          records, now, note);
    atomic_store_explicit(&b->len, 0, memory_order_relaxed);
    atomic_store_explicit(&b->records, 0, memory_order_relaxed);
    atomic_fetch_sub(&t->nonempty, 1);
}

/* Flusher thread: sends its message (records gathered from the batches),
 * if any. */
static void rl_flusher_send(rl_transport *t, apr_time_t now)
{
    rl_note note = { 0 };
    if (t->fmsg_records == 0) return;
    (void)rl_send_message(t, t->fmsg, t->fmsg_len, t->fmsg_records, now,
                          &note);
    t->fmsg_len = 0;
    t->fmsg_records = 0;
    rl_log_note(t, &note);
}

/* Flusher thread, once some batch is due: moves every non-empty batch
 * (due or not: sending early costs nothing, and spares the next wakeup)
 * into its own message buffer and sends it whenever the next batch might
 * not fit, so one send carries the records of many threads. With one
 * batch per worker thread, each thread's batch holds only the few records
 * of one interval; sent one batch per message that was a send per ~8
 * records, now one per ~100. The batch's lock is held for the copy only,
 * never during a send. */
static void rl_flush_all(rl_transport *t, apr_time_t now)
{
    for (rl_batch *b = atomic_load(&t->batches); b; b = b->next) {
        apr_uint32_t records;
        if (atomic_load_explicit(&b->records, memory_order_relaxed) == 0) {
            continue;
        }
        /* b may grow to RL_BATCH_CAP until we hold its lock */
        if (t->fmsg_len + RL_BATCH_CAP > RL_MESSAGE_CAP) {
            rl_flusher_send(t, now);
        }
        apr_thread_mutex_lock(b->mutex);
        records = atomic_load_explicit(&b->records, memory_order_relaxed);
        if (records > 0) {
            apr_size_t n = atomic_load_explicit(&b->len, memory_order_relaxed);
            memcpy(t->fmsg + t->fmsg_len, b->buf, n);
            t->fmsg_len += n;
            t->fmsg_records += records;
            atomic_store_explicit(&b->len, 0, memory_order_relaxed);
            atomic_store_explicit(&b->records, 0, memory_order_relaxed);
            atomic_fetch_sub(&t->nonempty, 1);
        }
        apr_thread_mutex_unlock(b->mutex);
    }
    rl_flusher_send(t, now);
}

/* The flusher thread: every flush_interval, when some batch's oldest
 * record is due, sends every queued record (rl_flush_all); sleeps without
 * a timeout while all batches are empty. */
static void *APR_THREAD_FUNC rl_flusher(apr_thread_t *thd, void *data)
{
    rl_transport *t = data;
    for (;;) {
        int queued = 0, due = 0;
        apr_time_t now;
        apr_thread_mutex_lock(t->flush_mutex);
        if (t->stopping) {
            apr_thread_mutex_unlock(t->flush_mutex);
            break;
        }
        apr_thread_cond_timedwait(t->cond, t->flush_mutex, t->flush_interval);
        if (t->stopping) {
            apr_thread_mutex_unlock(t->flush_mutex);
            break;
        }
        apr_thread_mutex_unlock(t->flush_mutex);

        now = apr_time_now();
        /* unlocked look: a batch filled meanwhile is seen on the next
         * round (its first record woke us or finds us awake) */
        for (rl_batch *b = atomic_load(&t->batches); b && !due; b = b->next) {
            if (atomic_load_explicit(&b->records, memory_order_relaxed) == 0) {
                continue;
            }
            queued = 1;
            due = now - atomic_load_explicit(&b->since, memory_order_relaxed)
                  >= t->flush_interval;
        }
        if (due) {
            rl_flush_all(t, now);
            queued = atomic_load(&t->nonempty) > 0;
        }
        if (!queued) {
            /* All empty: sleep until a thread queues into an empty batch.
             * Dekker-style with rl_transport_send: we store flusher_idle
             * then load nonempty, it increments nonempty then loads
             * flusher_idle (all seq_cst), so one of us sees the other. */
            apr_thread_mutex_lock(t->flush_mutex);
            atomic_store(&t->flusher_idle, 1);
            if (atomic_load(&t->nonempty) > 0) {
                atomic_store(&t->flusher_idle, 0);
            }
            while (atomic_load(&t->flusher_idle) && !t->stopping) {
                apr_thread_cond_wait(t->cond, t->flush_mutex);
            }
            apr_thread_mutex_unlock(t->flush_mutex);
        }
    }
    apr_thread_exit(thd, APR_SUCCESS);
    return NULL;
}

/* Request thread: wakes the flusher if it sleeps without a timeout. */
static void rl_wake_flusher(rl_transport *t)
{
    if (atomic_load(&t->flusher_idle)
        && atomic_exchange(&t->flusher_idle, 0)) {
        apr_thread_mutex_lock(t->flush_mutex);
        apr_thread_cond_signal(t->cond);
        apr_thread_mutex_unlock(t->flush_mutex);
    }
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */

void rl_transport_open(rl_transport *t)
{
    apr_time_t now = apr_time_now();
    if (atomic_load(&t->closed)) return;
    if (!rl_reconnect(t, now)) {
        /* not a drop yet: say once, at info level, that we will retry */
        ap_log_error(APLOG_MARK, APLOG_INFO,
                     APR_FROM_OS_ERROR(atomic_load(&t->last_err)),
                     t->s, RQLOGNO(00011) "receiver socket %s not reachable "
                     "at child start, retrying in the background", t->path);
    }
    if (t->flush_interval > 0) {
        apr_threadattr_t *attr = NULL;
        t->fmsg = apr_palloc(t->pool, RL_MESSAGE_CAP);
        if (apr_threadattr_create(&attr, t->pool) != APR_SUCCESS
            /* ap_log_error needs a few 8 KB buffers */
            || apr_threadattr_stacksize_set(attr, 256 * 1024) != APR_SUCCESS
            || apr_thread_create(&t->flusher, attr, rl_flusher, t,
                                 t->pool) != APR_SUCCESS) {
            /* without a flusher a batch could wait forever: don't batch */
            t->flusher = NULL;
            t->flush_interval = 0;
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, t->s, RQLOGNO(00012)
                         "cannot start the flusher thread for %s: sending "
                         "one record per message", t->path);
        }
    }
}

int rl_transport_drop_early(rl_transport *t)
{
    rl_note note = { 0 };
    apr_time_t now;
    if (atomic_load(&t->closed)) {
        return 1;
    }
    if (atomic_load(&t->connected)) {
        return 0;
    }
    now = apr_time_now();
    if (now < atomic_load(&t->retry_at)) {
        rl_drop(t, now, &note, RL_DROP_DOWN, 1, "cannot connect to the "
                "receiver socket", atomic_load(&t->last_err));
        rl_log_note(t, &note);
        return 1;
    }
    return 0;
}

rl_send_result rl_transport_send(rl_transport *t, const char *rec,
                                 apr_size_t len, apr_time_t now)
{
    rl_send_result res = RL_SENT;
    rl_note note = { 0 };
    rl_batch *b;

    if (atomic_load(&t->closed)) {
        return RL_DROP_DOWN;
    }
    if (!atomic_load(&t->connected) && now < atomic_load(&t->retry_at)) {
        /* backing off: drop before copying */
        rl_drop(t, now, &note, RL_DROP_DOWN, 1, "cannot connect to the "
                "receiver socket", atomic_load(&t->last_err));
        rl_log_note(t, &note);
        return RL_DROP_DOWN;
    }
    b = t->flush_interval > 0 && len <= RL_BATCH_CAP ? rl_my_batch(t) : NULL;
    if (b == NULL || b->buf == NULL) {
        /* alone; a record built in place past the batch's records is
         * outside what the flusher reads, and is simply not appended */
        res = rl_send_message(t, rec, len, 1, now, &note);
        rl_log_note(t, &note);
        return res;
    }
    {
        int first;
        apr_size_t at;
        apr_thread_mutex_lock(b->mutex);
        at = atomic_load_explicit(&b->len, memory_order_relaxed);
        if (at + len > RL_BATCH_CAP) {
            /* sends buf[0, at): the record, if built in place, lies past it */
            rl_flush_batch(t, b, now, &note);
            at = 0;
        }
        first = atomic_load_explicit(&b->records, memory_order_relaxed) == 0;
        if (first) {
            atomic_store_explicit(&b->since, now, memory_order_relaxed);
            atomic_fetch_add(&t->nonempty, 1);
        }
        if (rec != b->buf + at) {
            /* built elsewhere (the request pool), or in place before the
             * flusher emptied the batch: then rec is past `at` (memmove:
             * the two may overlap) */
            memmove(b->buf + at, rec, len);
        }
        atomic_store_explicit(&b->len, at + len, memory_order_relaxed);
        /* under the mutex: no read-modify-write instruction needed */
        atomic_store_explicit(&b->records,
                              atomic_load_explicit(&b->records,
                                                   memory_order_relaxed) + 1,
                              memory_order_relaxed);
        apr_thread_mutex_unlock(b->mutex);
        if (first) {
            rl_wake_flusher(t);
        }
    }
    rl_log_note(t, &note);
    return res;
}

void rl_transport_close(rl_transport *t)
{
    apr_status_t rv;
    apr_time_t now = apr_time_now();
    if (atomic_exchange(&t->closed, 1)) {
        return;
    }
    if (t->flusher) {
        apr_thread_mutex_lock(t->flush_mutex);
        t->stopping = 1;
        atomic_store(&t->flusher_idle, 0);
        apr_thread_cond_signal(t->cond);
        apr_thread_mutex_unlock(t->flush_mutex);
        apr_thread_join(&rv, t->flusher);
        t->flusher = NULL;
    }
    for (rl_batch *b = atomic_load(&t->batches); b; b = b->next) {
        rl_note note = { 0 };
        apr_thread_mutex_lock(b->mutex);
        rl_flush_batch(t, b, now, &note);
        apr_thread_mutex_unlock(b->mutex);
        rl_log_note(t, &note);
    }
    if (t->fd >= 0) {
        atomic_store(&t->connected, 0);
        close(t->fd);
        t->fd = -1;
    }
    if (atomic_exchange(&t->has_batch_key, 0)) {
        /* no destructor after this: threads still running (a module's
         * workers joined later) must not touch batches once the pool that
         * holds them is gone */
        (void)pthread_key_delete(t->batch_key);
    }
}

static apr_status_t rl_transport_cleanup(void *data)
{
    rl_transport_close(data);
    return APR_SUCCESS;
}

void rl_transport_get_stats(rl_transport *t, rl_transport_stats *out)
{
    out->sent = atomic_load(&t->n_sent);
    out->messages = atomic_load(&t->n_messages);
    out->connects = atomic_load(&t->n_connects);
    out->batches = atomic_load(&t->n_batches);
    out->batch_reuses = atomic_load(&t->n_batch_reuses);
    out->dropped_down = atomic_load(&t->n_dropped[RL_DROP_DOWN]);
    out->dropped_full = atomic_load(&t->n_dropped[RL_DROP_FULL]);
    out->dropped_toobig = atomic_load(&t->n_dropped[RL_DROP_TOOBIG]);
    out->dropped_error = atomic_load(&t->n_dropped[RL_DROP_ERROR]);
}
