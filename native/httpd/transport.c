/*
 * transport: delivers finished records to the receiver's UNIX socket.
 *
 * Invariants
 *  - A request never waits on the receiver: the socket is non-blocking,
 *    sends use MSG_DONTWAIT | MSG_NOSIGNAL, and connect() on a non-blocking
 *    UNIX socket completes or fails at once (EAGAIN when the listener's
 *    backlog is full, which counts as a failure).
 *  - Request threads running on one CPU share one lock, its message's
 *    append lock, and only for writing one record at the end of that
 *    message (a few hundred nanoseconds of stores, never a system call nor
 *    an allocation but for a new message buffer): a send happens after it
 *    is released. A message is detached under the lock (by the thread
 *    whose record does not fit, or by the flusher when its oldest record
 *    is due) and sent by that thread outside it; its buffer then goes back
 *    to its slot's free list. One message per CPU keeps each lock's line
 *    in one CPU's cache. The connection state, counters and warning times
 *    are atomics; the only other shared lock (conn_mutex) guards
 *    reconnecting and is taken with trylock, at most once per backoff
 *    period. (Session 6 moved from one batch per worker thread, lock-free
 *    between request threads, to this: the per-thread batches cost a cold
 *    batch, its mutex and the thread key per request, and the flusher
 *    copied every record once more to gather them; docs/mod_reqin_log.md
 *    has the measurements. A first version with one batch per child sent
 *    under its lock, and convoys formed behind a preempted holder: sends
 *    stay outside.)
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
 *  - Batching (flush_interval > 0): records are written in place at the end
 *    of their CPU's message (rl_transport_reserve / rl_transport_commit),
 *    up to RL_MESSAGE_CAP bytes (less behind a smaller send buffer:
 *    rl_message_cap); the thread whose record does not fit
 *    sends the message, and the flusher thread sends it once its oldest
 *    record has waited flush_interval; it sleeps on a condition variable
 *    while every message is empty. Records end in '\n', so a message is a
 *    run of JSON lines. A record larger than a message goes out alone.
 *    Message buffers: the one being filled, one per thread sending, and
 *    the free ones (reused last freed first, so the next one is still in
 *    cache): bounded by the threads.
 *  - Bounded per-thread memory: the records not written in place (no
 *    batching, or the checked writer) are built in a per-thread buffer
 *    found through a pthread key whose destructor hands it back when the
 *    thread exits; the next new thread takes it over. Threads come and go
 *    (mod_http2's idle workers stop), so a child holds as many of these as
 *    it had threads building such records at once, not ever.
 *  - SOCK_SEQPACKET (default): each send is one message. The kernel checks
 *    the receiving queue length (net.unix.max_dgram_qlen) only for senders
 *    the receiver is not connected back to; an accepted SEQPACKET socket
 *    is, so the only limit is this socket's send buffer (SO_SNDBUF): that is
 *    the flow control, and EAGAIN means the receiver is a full buffer behind.
 *  - Sockets are close-on-exec so that CGI children do not inherit them.
 *
 * Threads: rl_transport_reserve/commit/send run on request threads (MPM
 * workers, and mod_http2's workers); rl_flusher on its own thread;
 * create/open/close on the child's main thread, in child_init and at
 * child exit.
 */
#include "transport.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
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
#define RL_MAX_SLOTS     256
#define RL_THREADS_PER_SLOT 8
/* rl_transport_prefetch: about a record's worth of the message's lines */
#define RL_PREFETCH_BYTES 768
/* A message of whole records: the one being filled (a slot's cur), one being
 * sent, or a free one. */
struct rl_msg {
    struct rl_msg *next;         /* free list */
    struct rl_slot *slot;        /* whose free list it goes back to */
    apr_size_t len;
    apr_uint32_t records;
    apr_time_t since;            /* when its oldest record came */
    char buf[RL_MESSAGE_CAP];
};

/* One CPU's message: the threads running on that CPU append to it, so
 * that its lock and its lines stay in that CPU's cache (one message for
 * the whole child bounced its lock's line between CPUs on every record).
 * A thread that moves to another CPU meanwhile only takes a lock another
 * CPU uses: correct, and rare. */
typedef struct rl_slot {
    /* guards cur, free_msgs and the messages' len, records and since
     * while they are cur */
    pthread_mutex_t lock;
    rl_msg *cur;                 /* being filled; NULL: none yet */
    rl_msg *free_msgs;
    /* where cur's next record goes (NULL: no cur), for
     * rl_transport_prefetch, which reads it without the lock */
    char *tail;
} __attribute__((aligned(64))) rl_slot;

/* One thread's record buffer (records not written in place). Owned by
 * its thread; handed back when the thread exits. */
typedef struct rl_batch {
    struct rl_batch *next;       /* registry: append-only, never freed */
    /* 1 while a thread owns the buffer; 0 once its thread has exited (the
     * thread key's destructor), when the next new thread takes it over. */
    atomic_int owned;
    char *rec;
    apr_size_t rec_cap;
} rl_batch;

struct rl_transport {
    const char *path;
    rl_sock_type type;
    int sndbuf;
    server_rec *s;
    apr_pool_t *pool;            /* our own subpool of pchild, for buffers */
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
    atomic_int nonempty;         /* slots whose cur holds records */
    atomic_int flusher_idle;     /* the flusher sleeps until signalled */
    atomic_int last_err;         /* errno of the last failed connect */
    /* the longest message this socket accepts, at most RL_MESSAGE_CAP
     * (rl_message_cap); read under a slot's lock, set when (re)connecting */
    _Atomic apr_size_t msg_cap;
    atomic_int sending;          /* detached messages being sent */

    /* the messages being filled, one per CPU (nslots; 0 when not
     * batching) */
    rl_slot *slots;
    int nslots;

    /* conn_mutex guards: */
    _Alignas(64) apr_thread_mutex_t *conn_mutex;
    apr_interval_time_t backoff;

    /* reg_mutex guards allocation from `pool` */
    apr_thread_mutex_t *reg_mutex;
    /* Its value in a thread is the thread's record buffer; its destructor
     * hands the buffer back when the thread exits (rl_batch_release). */
    pthread_key_t batch_key;
    atomic_int has_batch_key;    /* 0 before it exists and once deleted */

    /* flush_mutex + cond: the flusher's sleep; `stopping` */
    apr_thread_mutex_t *flush_mutex;
    apr_thread_cond_t *cond;
    int stopping;
    apr_thread_t *flusher;

    struct sockaddr_un addr;
    socklen_t addr_len;
};

static apr_status_t rl_transport_cleanup(void *data);
static void rl_batch_release(void *data);

/* A socket of the transport's type with the configured send buffer
 * (doubled by the kernel, capped by net.core.wmem_max); -1 and errno when
 * it cannot be made. */
static int rl_socket_new(const rl_transport *t)
{
    int fd = socket(AF_UNIX, (t->type == RL_SOCK_DGRAM ? SOCK_DGRAM : SOCK_SEQPACKET)
                             | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && t->sndbuf > 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &t->sndbuf, sizeof(t->sndbuf));
    }
    return fd;
}

/* The longest message the socket fd sends. Linux refuses a datagram or
 * SEQPACKET message longer than the sender's buffer less 32 bytes
 * (net/unix/af_unix.c, unix_dgram_sendmsg: "if (len >
 * READ_ONCE(sk->sk_sndbuf) - 32) goto out;" with err = -EMSGSIZE), and
 * SO_SNDBUF reads back the doubled, wmem_max-capped size. A message filled
 * to RL_MESSAGE_CAP behind a smaller buffer (ReqinLogSendBuffer under
 * 32,784, or a small system default) would be refused whole, its ~150
 * records dropped as too large: messages are cut to fit instead, to half
 * the buffer, so that the next message can be sent while one waits for
 * the receiver (a message larger than that takes the whole buffer and the
 * next send finds it full). */
static apr_size_t rl_message_cap(int fd)
{
    int v = 0;
    socklen_t n = sizeof(v);
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &n) != 0 || v < 4096) {
        return RL_MESSAGE_CAP;
    }
    return (apr_size_t)v / 2 - 32 < RL_MESSAGE_CAP ? (apr_size_t)v / 2 - 32
                                                   : RL_MESSAGE_CAP;
}

/* child_init: one message slot per CPU the child may run on, but no more
 * than one per RL_THREADS_PER_SLOT request threads: every slot's message
 * fills up to RL_MESSAGE_CAP bytes, so a prefork child (one thread) on a
 * 64-CPU host keeps one 64 KiB message, not 64 (threads on CPUs beyond
 * the slots share them: correct, their lock's line then moves between
 * those CPUs). */
static int rl_slots_create(rl_transport *t, int threads)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    long by_threads = threads < 1 ? 1
                      : (threads + RL_THREADS_PER_SLOT - 1) / RL_THREADS_PER_SLOT;
    if (n > by_threads) n = by_threads;
    t->nslots = (int)(n < 1 ? 1 : n > RL_MAX_SLOTS ? RL_MAX_SLOTS : n);
    /* aligned: each slot on its own cache lines */
    t->slots = apr_palloc(t->pool, sizeof(rl_slot) * (apr_size_t)t->nslots
                                   + 64);
    t->slots = (rl_slot *)(((apr_uintptr_t)t->slots + 63) & ~(apr_uintptr_t)63);
    for (int i = 0; i < t->nslots; i++) {
        t->slots[i].cur = NULL;
        t->slots[i].free_msgs = NULL;
        t->slots[i].tail = NULL;
        if (pthread_mutex_init(&t->slots[i].lock, NULL) != 0) {
            t->nslots = i;
            return 0;
        }
    }
    return 1;
}

rl_transport *rl_transport_create(apr_pool_t *pchild, server_rec *s,
                                  const char *path, rl_sock_type type,
                                  int sndbuf,
                                  apr_interval_time_t flush_interval,
                                  int threads)
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
     * connect; sends on it fail (ENOTCONN) like on a lost connection. It
     * gets the configured buffer as the connected ones will, so that the
     * first messages are already cut to fit. */
    t->fd = rl_socket_new(t);
    atomic_init(&t->msg_cap, t->fd >= 0 ? rl_message_cap(t->fd) : RL_MESSAGE_CAP);
    ok = t->fd >= 0
         && apr_pool_create(&t->pool, pchild) == APR_SUCCESS
         && apr_thread_mutex_create(&t->conn_mutex, APR_THREAD_MUTEX_DEFAULT,
                                    pchild) == APR_SUCCESS
         && apr_thread_mutex_create(&t->reg_mutex, APR_THREAD_MUTEX_DEFAULT,
                                    pchild) == APR_SUCCESS
         && apr_thread_mutex_create(&t->flush_mutex, APR_THREAD_MUTEX_DEFAULT,
                                    pchild) == APR_SUCCESS
         && apr_thread_cond_create(&t->cond, pchild) == APR_SUCCESS
         && rl_slots_create(t, threads);
    atomic_init(&t->sending, 0);
    /* the key finds each thread's record buffer: without one (keys
     * exhausted), records not written in place come from the request
     * pool */
    atomic_init(&t->has_batch_key,
                ok && pthread_key_create(&t->batch_key, rl_batch_release) == 0);
    if (!ok) {
        ap_log_error(APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(errno), s,
                     RQLOGNO(00013) "cannot set up the socket for %s: no "
                     "records will be sent from this child", path);
        atomic_store(&t->closed, 1);
        t->flush_interval = 0;
    }
    /* A pre-cleanup: apr_pool_destroy runs pre-cleanups, then destroys
     * subpools (the flusher thread's pool, our buffers), then runs cleanups
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
    int fd, err = 0;
    if (apr_thread_mutex_trylock(t->conn_mutex) != APR_SUCCESS) {
        return atomic_load(&t->connected);
    }
    if (atomic_load(&t->connected) || atomic_load(&t->closed)
        || now < atomic_load(&t->retry_at)) {
        int c = atomic_load(&t->connected);
        apr_thread_mutex_unlock(t->conn_mutex);
        return c;
    }
    fd = rl_socket_new(t);
    if (fd < 0) {
        err = errno;
    }
    else {
        if (connect(fd, (struct sockaddr *)&t->addr, t->addr_len) != 0
            || dup2(fd, t->fd) < 0) {
            err = errno;
        }
        close(fd);
    }
    if (err == 0) {
        atomic_store(&t->msg_cap, rl_message_cap(t->fd));
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
/* Per-thread record buffers                                           */

/* Thread exit (the key's destructor, on the exiting thread): the buffer
 * goes back to the registry for the next new thread. Threads come and go
 * (mod_http2 stops idle workers after H2MaxWorkerIdleSeconds and starts
 * new ones on demand): without this, each new thread would add a buffer
 * that nothing frees until the child exits. Only an atomic store: the
 * buffer lives as long as the transport's pool, and the key is deleted
 * when the transport closes, before that pool goes. */
static void rl_batch_release(void *data)
{
    rl_batch *b = data;
    atomic_store(&b->owned, 0);
}

/* Request thread: a buffer no thread owns, taken over, or NULL. */
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

/* Request thread: this thread's record buffer, taken over from an exited
 * thread or registered, on first use. */
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
        b->next = atomic_load(&t->batches);
        atomic_store(&t->batches, b); /* publish */
        apr_thread_mutex_unlock(t->reg_mutex);
        atomic_fetch_add_explicit(&t->n_batches, 1, memory_order_relaxed);
    }
    if (pthread_setspecific(t->batch_key, b) != 0) {
        atomic_store(&b->owned, 0);       /* out of memory: the pool */
        return NULL;
    }
    return b;
}

/* Request thread: where this thread builds a record that is not written
 * in place, `size` bytes at least. Grows when a server with a larger
 * ReqinLogMaxRecordSize shares the socket (the old one stays in the pool:
 * at most a few per thread, as sizes only grow, up to RL_MAX_MAX_RECORD). */
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
    if (b->rec_cap < size) {
        apr_thread_mutex_lock(t->reg_mutex);
        b->rec = apr_palloc(t->pool, size);
        apr_thread_mutex_unlock(t->reg_mutex);
        b->rec_cap = size;
    }
    return b->rec;
}

/* ------------------------------------------------------------------ */
/* The messages, one per CPU                                           */

/* Under sl->lock: a free message buffer (the last one freed: still in
 * cache, its bytes just read by the kernel's copy), or a new one. */
static rl_msg *rl_msg_take(rl_transport *t, rl_slot *sl)
{
    rl_msg *m = sl->free_msgs;
    if (m != NULL) {
        sl->free_msgs = m->next;
    }
    else {
        apr_thread_mutex_lock(t->reg_mutex);
        m = apr_palloc(t->pool, sizeof(*m));
        apr_thread_mutex_unlock(t->reg_mutex);
        m->slot = sl;
    }
    m->len = 0;
    m->records = 0;
    return m;
}

/* Any thread: sends a detached message, then frees its buffer. */
static void rl_msg_send(rl_transport *t, rl_msg *m, apr_time_t now)
{
    rl_note note = { 0 };
    rl_slot *sl = m->slot;
    if (m->records > 0) {
        (void)rl_send_message(t, m->buf, m->len, m->records, now, &note);
    }
    pthread_mutex_lock(&sl->lock);
    m->next = sl->free_msgs;
    sl->free_msgs = m;
    pthread_mutex_unlock(&sl->lock);
    atomic_fetch_sub(&t->sending, 1);
    rl_log_note(t, &note);
}

/* Under sl->lock: detaches its message (to be sent by the caller). */
static rl_msg *rl_slot_detach(rl_transport *t, rl_slot *sl)
{
    rl_msg *m = sl->cur;
    sl->cur = NULL;
    __atomic_store_n(&sl->tail, NULL, __ATOMIC_RELAXED);
    if (m != NULL) {
        atomic_fetch_add(&t->sending, 1);
        if (m->records > 0) atomic_fetch_sub(&t->nonempty, 1);
    }
    return m;
}

/* The slot of the CPU this thread runs on. */
static inline rl_slot *rl_my_slot(rl_transport *t)
{
    /* glibc reads it from the thread's rseq area: a load, no syscall */
    int cpu = sched_getcpu();
    return &t->slots[cpu > 0 ? cpu % t->nslots : 0];
}

char *rl_transport_reserve(rl_transport *t, apr_size_t size, rl_append *a)
{
    rl_slot *sl;
    rl_msg *m;
    apr_size_t cap = atomic_load_explicit(&t->msg_cap, memory_order_relaxed);
    if (t->flush_interval == 0 || size > cap) {
        return NULL;
    }
    sl = a->slot != NULL ? a->slot : rl_my_slot(t);
    pthread_mutex_lock(&sl->lock);
    /* under the lock: rl_transport_close takes the last messages under it */
    if (atomic_load_explicit(&t->closed, memory_order_relaxed)) {
        pthread_mutex_unlock(&sl->lock);
        return NULL;
    }
    a->full = NULL;
    m = sl->cur;
    if (m != NULL && m->len + size > cap) {
        /* sent by rl_transport_commit, once the lock is released */
        a->full = rl_slot_detach(t, sl);
        m = NULL;
    }
    if (m == NULL) {
        m = sl->cur = rl_msg_take(t, sl);
    }
    a->msg = m;
    return m->buf + m->len;
}

void rl_transport_prefetch(rl_transport *t, rl_append *a)
{
    const char *at;
    a->slot = NULL;
    if (t->flush_interval == 0 || t->nslots == 0) return;
    a->slot = rl_my_slot(t);
    /* unlocked: a hint. A message's memory is never freed, and a
     * prefetch never faults, so a stale pointer costs only the lines. */
    at = __atomic_load_n(&a->slot->tail, __ATOMIC_RELAXED);
    if (at != NULL) {
        for (int i = 0; i < RL_PREFETCH_BYTES; i += 64) {
            __builtin_prefetch(at + i, 1, 3);
        }
    }
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

void rl_transport_commit(rl_transport *t, rl_append *a, apr_size_t len,
                         apr_time_t now)
{
    rl_msg *m = a->msg;
    int first = m->records == 0;
    m->len += len;
    m->records++;
    __atomic_store_n(&m->slot->tail, m->buf + m->len, __ATOMIC_RELAXED);
    if (first) {
        m->since = now;
        /* seq_cst, then flusher_idle is read: see rl_flusher */
        atomic_fetch_add(&t->nonempty, 1);
    }
    pthread_mutex_unlock(&m->slot->lock);
    if (a->full != NULL) {
        rl_msg_send(t, a->full, now);
    }
    if (first) {
        rl_wake_flusher(t);
    }
}

/* The flusher thread: every flush_interval, sends each CPU's message
 * once its oldest record is due; sleeps without a timeout while all are
 * empty. */
static void *APR_THREAD_FUNC rl_flusher(apr_thread_t *thd, void *data)
{
    rl_transport *t = data;
    for (;;) {
        int queued = 0;
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
        for (int i = 0; i < t->nslots && atomic_load(&t->nonempty) > 0; i++) {
            rl_slot *sl = &t->slots[i];
            rl_msg *due = NULL;
            pthread_mutex_lock(&sl->lock);
            if (sl->cur != NULL && sl->cur->records > 0) {
                if (now - sl->cur->since >= t->flush_interval) {
                    /* the next record starts a new message */
                    due = rl_slot_detach(t, sl);
                }
                else {
                    queued = 1;
                }
            }
            pthread_mutex_unlock(&sl->lock);
            if (due != NULL) {
                rl_msg_send(t, due, now);
            }
        }
        queued = queued || atomic_load(&t->nonempty) > 0;
        if (!queued) {
            /* All empty: sleep until a thread puts the first record in a
             * message. Dekker-style with rl_transport_commit: we store
             * flusher_idle then load nonempty, it increments nonempty
             * then loads flusher_idle (all seq_cst), so one of us sees
             * the other. */
            apr_thread_mutex_lock(t->flush_mutex);
            atomic_store(&t->flusher_idle, 1);
            if (atomic_load(&t->nonempty)) {
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
        if (apr_threadattr_create(&attr, t->pool) != APR_SUCCESS
            /* ap_log_error needs a few 8 KB buffers */
            || apr_threadattr_stacksize_set(attr, 256 * 1024) != APR_SUCCESS
            || apr_thread_create(&t->flusher, attr, rl_flusher, t,
                                 t->pool) != APR_SUCCESS) {
            /* without a flusher a record could wait forever: don't batch */
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
    rl_send_result res;
    rl_note note = { 0 };
    rl_append a;
    char *at;

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
    a.slot = NULL;
    at = rl_transport_reserve(t, len, &a);
    if (at != NULL) {
        memcpy(at, rec, len);
        rl_transport_commit(t, &a, len, now);
        return RL_SENT;
    }
    /* alone: not batching, or larger than a message */
    res = rl_send_message(t, rec, len, 1, now, &note);
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
    /* no record joins a message after this (rl_transport_reserve checks
     * `closed` under the slot's lock) */
    for (int i = 0; i < t->nslots; i++) {
        rl_slot *sl = &t->slots[i];
        rl_msg *m;
        pthread_mutex_lock(&sl->lock);
        m = rl_slot_detach(t, sl);
        pthread_mutex_unlock(&sl->lock);
        if (m != NULL) rl_msg_send(t, m, now);
    }
    /* messages detached by request threads still running (a module's
     * workers joined later): let their sends finish before the socket
     * goes, for at most a second */
    for (int i = 0; i < 1000 && atomic_load(&t->sending) > 0; i++) {
        apr_sleep(apr_time_from_msec(1));
    }
    if (t->fd >= 0) {
        atomic_store(&t->connected, 0);
        close(t->fd);
        t->fd = -1;
    }
    if (atomic_exchange(&t->has_batch_key, 0)) {
        /* no destructor after this: threads still running (a module's
         * workers joined later) must not touch buffers once the pool that
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
