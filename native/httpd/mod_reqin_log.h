/*
 * mod_reqin_log: configuration and per-connection / per-request state shared
 * by mod_reqin_log.c (hooks, directives) and record.c (the JSON record).
 */
#ifndef MOD_REQIN_LOG_H
#define MOD_REQIN_LOG_H

#include "httpd.h"
#include "http_config.h"
#include "ap_regex.h"
#include "apr_tables.h"

#include "transport.h"
#include "h2_pseudo.h"

/* The module is built with -fvisibility=hidden (Makefile), so that calls
 * between its files bind locally; Apache finds this struct by name. */
#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
extern module AP_MODULE_DECLARE_DATA reqin_log_module;

#define RL_UNSET (-1)

#define RL_DEFAULT_SOCKET        "/run/ja4/http.socket"
#define RL_DEFAULT_MAX_FIELD     2048
#define RL_DEFAULT_MAX_RECORD    16384
#define RL_DEFAULT_SNDBUF        (1024 * 1024)
#define RL_DEFAULT_FLUSH_MS      20
#define RL_MIN_MAX_FIELD         16
#define RL_MAX_MAX_FIELD         65536
#define RL_MIN_MAX_RECORD        1024
#define RL_MAX_MAX_RECORD        65536

/* One entry of ReqinLogHeaders: an exact header name or a prefix ("Sec-Fetch-*"). */
typedef struct {
    const char *name;   /* without the trailing '*' */
    apr_size_t len;
    int prefix;
    apr_uint64_t word;  /* header_name.h: the first 8 bytes in lower case */
    apr_uint64_t mask;  /* the bits of word that hold name bytes */
    apr_uint64_t tail;  /* rl_name_tail: the last 8 bytes, when len > 8 */
    apr_size_t span;    /* name lengths len..len+span match: 0, or all */
    /* Exact rules: `"name":` in lower case, the key a matching header gets
     * in "headers" (it is the same letters), written without a scan;
     * NULL for prefix rules. */
    const char *json;
    apr_size_t json_len;
} rl_header_rule;

/* One entry of ReqinLogExclude: a path prefix, or a regex written "~ regex". */
typedef struct {
    const char *prefix;   /* NULL for a regex */
    apr_size_t len;
    ap_regex_t *regex;
} rl_exclude_rule;

/* Per-directory (and per-server default) configuration. */
typedef struct {
    int enabled;                  /* RL_UNSET, 0, 1 */
    apr_array_header_t *headers;  /* rl_header_rule; NULL: inherited */
    int with_defaults;            /* headers also include the default set */
    int max_field;                /* bytes of input per field; RL_UNSET */
    apr_array_header_t *exclude;  /* rl_exclude_rule; accumulates */
    double sample;                /* fraction logged, (0, 1]; < 0 unset */
} rl_dir_conf;

/* Per-server configuration. */
typedef struct {
    const char *socket_path;      /* NULL: inherited */
    int socket_type;              /* rl_sock_type, 0: inherited */
    int max_record;               /* bytes; 0: inherited */
    int sndbuf;                   /* SO_SNDBUF bytes; RL_UNSET: inherited */
    int flush_ms;                 /* batching delay; RL_UNSET: inherited */
    /* Set in child_init (then read-only): this server's socket, so that a
     * request finds it without hashing the path. */
    rl_transport *transport;
} rl_srv_conf;

/* Per connection (conn_config). For an HTTP/2 stream (c->master set), the
 * id and the request counter are the root connection's. */
typedef struct rl_conn {
    const char *id;               /* unique: pid, child start, sequence */
    volatile apr_uint32_t requests; /* root only: requests started (atomic) */
    struct rl_conn *root;         /* self, or the root connection's state */
    apr_off_t bytes_in;           /* counted by the filters on this conn_rec */
    apr_off_t bytes_out;
    apr_off_t mark_in;            /* totals when the last request was logged */
    apr_off_t mark_out;
    const char *endpoints;        /* HTTP/1: `,"conn":..,"local_port":N` */
    apr_size_t endpoints_len;
    /* HTTP/1.x: the last logged request's header shape (record.c),
     * reused by the next request whose names are the same; NULL until
     * then. Allocated once per connection, from c->pool. */
    struct rl_shape *shape;
    /* HTTP/1.x: the request whose header lines are being read (from
     * pre_read_request until the blank line, or until its pool goes),
     * whose names the connection's input filter collects; else NULL. */
    struct rl_req *reading;
    /* Master connections: watching the bytes for an HTTP/2 client stream
     * (RL_H2_*), and once one started, its parser, which the connection
     * thread feeds and stream threads query under h2_lock. */
    int h2_watch;
    apr_size_t h2_preface_got;
    rl_h2_parser *h2;
    struct apr_thread_mutex_t *h2_lock;
} rl_conn;

#define RL_H2_LOOKING 0   /* h1 so far: a read may start the preface */
#define RL_H2_PARSING 1
#define RL_H2_OFF     2   /* not a master connection, or parsing stopped */

/* Per request (request_config): created in pre_read_request (HTTP/1.x),
 * else in post_read_request (HTTP/2 streams), else at log time. */
typedef struct rl_req {
    apr_uint32_t number;          /* 1-based on the root connection */
    apr_pool_t *pool;             /* r->pool */
    rl_conn *conn;                /* HTTP/1.x: while conn->reading is us */
    /* headers_in's entries as parsed, before other modules change the
     * table (a copy of its array; the strings are shared) */
    const apr_array_header_t *headers;
    /* HTTP/1.x: the header names exactly as the lines arrived, repeats
     * included (headers_in merges repeated names), packed one after the
     * other in one growing buffer from r->pool, each as its length (an
     * apr_uint32_t, unaligned) then its bytes: one copy per name and no
     * allocation per name. NULL otherwise. */
    char *names;
    apr_size_t names_len;         /* bytes used */
    apr_size_t names_cap;
    int nnames;
    apr_size_t names_max;         /* the longest name */
    int hdr_state;                /* RL_HDR_* below */
    int at_line_start;            /* the next GETLINE piece starts a line */
    /* HTTP/1.x with an absolute-form target ("GET http://a/ HTTP/1.1"):
     * the first Host line's value as sent. Apache replaces headers_in's
     * Host with the target's authority before any hook sees it (RFC 9112
     * 3.2.2: "the origin server MUST ignore the received Host header
     * field"), but the record logs what the client sent. NULL otherwise. */
    int absolute_form;
    const char *sent_host;
    apr_size_t sent_host_len;
    /* HTTP/2: the stream's pseudo-header order (h2_pseudo.h letters),
     * h2_n of them; 0: unknown. */
    int h2_n;
    char h2_order[RL_H2_ORDER_MAX];
} rl_req;

#define RL_HDR_REQUEST_LINE 0
#define RL_HDR_FIELDS       1
#define RL_HDR_DONE         2
#define RL_MAX_NAMES        1000
#define RL_NAMES_INITIAL    512   /* bytes of rl_req.names at first */

/* Effective settings for one request. */
typedef struct {
    const rl_dir_conf *dir;
    apr_size_t max_field;
    apr_size_t max_record;
    apr_time_t now;               /* log_transaction's time (dur_us) */
} rl_limits;

/* Fills a rule's words, mask and span from its name and length, and for
 * an exact rule its JSON key into json (len + 3 bytes; NULL: none). */
void rl_header_rule_prepare(rl_header_rule *rule, char *json);

/* Once per process, before any request: prepares the built-in names. */
void rl_record_init(void);

/* Builds the record for r (the original request of the transaction), one
 * JSON object and '\n' of at most max_record bytes, and hands it to t:
 * written in place at the end of its CPU's message when it certainly
 * fits unchecked, else built in the thread's buffer and sent. */
void rl_log_record(request_rec *r, const rl_limits *lim, rl_conn *cs,
                   rl_req *rq, rl_transport *t);

/* Optional functions of mod_ssl and mod_http2, NULL when not loaded. */
typedef char *(rl_var_lookup_fn)(apr_pool_t *, server_rec *, conn_rec *,
                                 request_rec *, char *);
extern rl_var_lookup_fn *rl_ssl_var_lookup;
extern rl_var_lookup_fn *rl_http2_var_lookup;
/* mod_unique_id is loaded: only then is UNIQUE_ID looked up (a table scan
 * of subprocess_env per request otherwise). */
extern int rl_unique_id_loaded;

#endif /* MOD_REQIN_LOG_H */
