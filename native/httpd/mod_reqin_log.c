/* mod_reqin_log: one JSON record per request, sent to a UNIX socket.
 *
 * The HTTP half of ja4-platform's correlation: for every request, at
 * log_transaction, a JSON object with the timing, the TCP endpoints, the
 * connection id and the request's number on it, the request line, the
 * header names in wire order and the values of a configured set, cookie
 * names, TLS facts from mod_ssl and mod_unique_id's id goes to a receiver
 * listening on a UNIX socket (default /run/ja4/http.socket).
 * docs/mod_reqin_log.md describes the record and the directives.
 *
 * Design invariants
 *  1. Logging never slows or fails a request. A record is written at the
 *     end of its CPU's message, which goes out in one non-blocking send
 *     when full or ReqinLogFlushInterval old (transport.c), never under a
 *     lock; when the receiver is absent,
 *     refuses, or is behind by a full socket buffer, records are dropped and
 *     counted. Every hook returns OK or DECLINED whatever happens.
 *  2. Failures are visible but quiet: a warning with a stable id (RQL000nn)
 *     at most once a minute per child and socket, and a summary with the
 *     counters when a child exits.
 *  3. The record is always one valid JSON object no larger than
 *     ReqinLogMaxRecordSize, whatever bytes the client sent (record.c,
 *     json_writer.c). Cookie values and credentials are never logged.
 *  4. Memory per request comes from r->pool; per connection from c->pool;
 *     per child (sockets, counters, the messages) and per thread (the
 *     buffer the records not written in place are built in, allocated
 *     once) from the child pool. Nothing grows with the number of
 *     requests.
 *  5. Works under prefork, worker and event. Request threads share one
 *     lock per CPU, held only while a record is written into that CPU's
 *     message (no system call under it); the per-child socket, its state
 *     and counters are atomics (transport.c); the root connection's request counter,
 *     which HTTP/2 streams of one connection share, is atomic. mod_http2
 *     has threads even under prefork, so there is no prefork special case.
 *  6. Header names and values are taken as received. HTTP/1.x names come
 *     from the header lines themselves, collected by our connection-level
 *     input filter (the byte counter), which sees each line ap_read_request
 *     reads: headers_in would not do, as the parser merges repeated names
 *     (apr_table_compress) and other modules edit it. Values come from a copy of headers_in taken in
 *     post_read_request (APR_HOOK_REALLY_FIRST). HTTP/2 streams have only
 *     the table (its insertion order is mod_http2's order of the fields).
 *  7. HTTP/2 pseudo-header order: mod_http2 keeps none, so the same input
 *     filter, on a master connection that starts an HTTP/2 client stream,
 *     parses a copy of the frames and decodes the header blocks again
 *     (h2_pseudo.c, libnghttp2's inflater). The bytes pass untouched; a
 *     parse failure only stops the parsing. Its memory (malloc: one
 *     inflater, a fixed ring of streams) goes with c->pool.
 */

#include <strings.h>

#include "httpd.h"
#include "ap_mpm.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"

#include "apr_atomic.h"
#include "apr_hash.h"
#include "apr_optional.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "mod_reqin_log.h"
#include "json_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#define RQLOGNO(n) "RQL" #n ": "

/* Per child: receiver sockets by path, filled in child_init and read-only
 * afterwards (so that threads may look them up without a lock). */
static apr_hash_t *rl_transports = NULL;
/* Per child: the prefix of connection ids and the connection sequence. */
static const char *rl_child_id = NULL;
static volatile apr_uint32_t rl_conn_seq = 0;

/* Per child: HTTP/2 connections whose frame stream our parser gave up on
 * (h2_pseudo.h), reported at child exit. */
static volatile apr_uint32_t rl_h2_stopped = 0;

static ap_filter_rec_t *rl_in_filter_handle;
static ap_filter_rec_t *rl_out_filter_handle;

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

static void *rl_create_dir_conf(apr_pool_t *p, char *dir)
{
    rl_dir_conf *d = apr_pcalloc(p, sizeof(*d));
    d->enabled = RL_UNSET;
    d->headers = NULL;
    d->with_defaults = 0;
    d->max_field = RL_UNSET;
    d->exclude = NULL;
    d->sample = -1.0;
    return d;
}

static void *rl_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    rl_dir_conf *base = basev, *add = addv;
    rl_dir_conf *d = apr_pcalloc(p, sizeof(*d));

    d->enabled = add->enabled != RL_UNSET ? add->enabled : base->enabled;
    d->max_field = add->max_field != RL_UNSET ? add->max_field : base->max_field;
    d->sample = add->sample >= 0 ? add->sample : base->sample;
    if (add->headers == NULL) {
        d->headers = base->headers;
        d->with_defaults = base->with_defaults;
    }
    else if (add->with_defaults) {
        /* "ReqinLogHeaders +X-Foo": the inherited set plus these */
        d->headers = base->headers
            ? apr_array_append(p, base->headers, add->headers)
            : add->headers;
        d->with_defaults = base->headers ? base->with_defaults : 1;
    }
    else {
        d->headers = add->headers;
        d->with_defaults = 0;
    }
    /* exclusions accumulate from the server down to the location */
    if (base->exclude && add->exclude) {
        d->exclude = apr_array_append(p, base->exclude, add->exclude);
    }
    else {
        d->exclude = add->exclude ? add->exclude : base->exclude;
    }
    return d;
}

static void *rl_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    rl_srv_conf *sc = apr_pcalloc(p, sizeof(*sc));
    sc->socket_path = NULL;
    sc->socket_type = 0;
    sc->max_record = 0;
    sc->sndbuf = RL_UNSET;
    sc->flush_ms = RL_UNSET;
    return sc;
}

static void *rl_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    rl_srv_conf *base = basev, *add = addv;
    rl_srv_conf *sc = apr_pcalloc(p, sizeof(*sc));
    sc->socket_path = add->socket_path ? add->socket_path : base->socket_path;
    sc->socket_type = add->socket_type ? add->socket_type : base->socket_type;
    sc->max_record = add->max_record ? add->max_record : base->max_record;
    sc->sndbuf = add->sndbuf != RL_UNSET ? add->sndbuf : base->sndbuf;
    sc->flush_ms = add->flush_ms != RL_UNSET ? add->flush_ms : base->flush_ms;
    sc->transport = NULL;
    return sc;
}

static const char *rl_socket_path(const rl_srv_conf *sc)
{
    return sc->socket_path ? sc->socket_path : RL_DEFAULT_SOCKET;
}

/* Parses a whole decimal number in [lo, hi] or returns an error message. */
static const char *rl_parse_int(cmd_parms *cmd, const char *arg, long lo,
                                long hi, int *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < lo || v > hi) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not a number of bytes "
                            "from %ld to %ld", cmd->cmd->name, arg, lo, hi);
    }
    *out = (int)v;
    return NULL;
}

static const char *rl_cmd_socket(cmd_parms *cmd, void *dummy, const char *path,
                                 const char *type)
{
    rl_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                           &reqin_log_module);
    struct sockaddr_un sun;
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    if (err) return err;
    if (path[0] != '/') {
        return apr_psprintf(cmd->pool, "ReqinLogSocket: \"%s\" is not an "
                            "absolute path", path);
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
        return apr_psprintf(cmd->pool, "ReqinLogSocket: \"%s\" is longer than "
                            "a UNIX socket path may be (%d bytes)", path,
                            (int)sizeof(sun.sun_path) - 1);
    }
    sc->socket_path = path;
    sc->socket_type = RL_SOCK_SEQPACKET;
    if (type != NULL) {
        if (strcasecmp(type, "seqpacket") == 0) {
            sc->socket_type = RL_SOCK_SEQPACKET;
        }
        else if (strcasecmp(type, "dgram") == 0) {
            sc->socket_type = RL_SOCK_DGRAM;
        }
        else {
            return apr_psprintf(cmd->pool, "ReqinLogSocket: socket type must "
                                "be seqpacket or dgram, not \"%s\"", type);
        }
    }
    return NULL;
}

static const char *rl_cmd_max_record(cmd_parms *cmd, void *dummy,
                                     const char *arg)
{
    rl_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                           &reqin_log_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    if (err) return err;
    return rl_parse_int(cmd, arg, RL_MIN_MAX_RECORD, RL_MAX_MAX_RECORD,
                        &sc->max_record);
}

static const char *rl_cmd_sndbuf(cmd_parms *cmd, void *dummy, const char *arg)
{
    rl_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                           &reqin_log_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    if (err) return err;
    if (strcmp(arg, "0") == 0) {
        sc->sndbuf = 0;
        return NULL;
    }
    return rl_parse_int(cmd, arg, 4096, 64L * 1024 * 1024, &sc->sndbuf);
}

static const char *rl_cmd_flush(cmd_parms *cmd, void *dummy, const char *arg)
{
    rl_srv_conf *sc = ap_get_module_config(cmd->server->module_config,
                                           &reqin_log_module);
    char *end;
    long v;
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    if (err) return err;
    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < 0 || v > 1000) {
        return apr_psprintf(cmd->pool, "ReqinLogFlushInterval: \"%s\" is not "
                            "a number of milliseconds from 0 to 1000", arg);
    }
    sc->flush_ms = (int)v;
    return NULL;
}

static const char *rl_cmd_max_field(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    rl_dir_conf *d = dconf;
    return rl_parse_int(cmd, arg, RL_MIN_MAX_FIELD, RL_MAX_MAX_FIELD,
                        &d->max_field);
}

/* RFC 9110 section 5.1: field-name = token; token = 1*tchar; tchar = "!" /
 * "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
 * "|" / "~" / DIGIT / ALPHA. A trailing "*" here means "any name starting
 * with". */
static int rl_is_tchar(unsigned char c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *rl_cmd_headers(cmd_parms *cmd, void *dconf, const char *arg)
{
    rl_dir_conf *d = dconf;
    rl_header_rule *rule;
    const char *name = arg;
    int add = 0;
    apr_size_t len;

    if (strcasecmp(arg, "none") == 0) {
        /* the directive's whole argument text: "none" with names beside it
         * would silently drop them (or the defaults of "+Name none") */
        const char *all = cmd->directive ? cmd->directive->args : arg;
        all += strspn(all, " \t");        /* the first word, */
        all += strcspn(all, " \t");       /* past it, */
        all += strspn(all, " \t");        /* and what follows */
        if (*all != '\0') {
            return "ReqinLogHeaders: none turns header values off and stands "
                   "alone; to log some names, list only them";
        }
        d->headers = apr_array_make(cmd->pool, 1, sizeof(rl_header_rule));
        d->with_defaults = 0;
        return NULL;
    }
    if (name[0] == '+') {
        add = 1;
        name++;
    }
    len = strlen(name);
    if (len == 0) {
        return apr_psprintf(cmd->pool, "ReqinLogHeaders: \"%s\" is not a "
                            "header name", arg);
    }
    for (apr_size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!rl_is_tchar(c) || (c == '*' && i != len - 1)) {
            return apr_psprintf(cmd->pool, "ReqinLogHeaders: \"%s\" is not a "
                                "header name (letters, digits and "
                                "!#$%%&'+-.^_`|~, optionally ending in * to "
                                "match a prefix)", arg);
        }
    }
    if (strcasecmp(name, "Cookie") == 0) {
        return "ReqinLogHeaders: Cookie values are never logged; cookie names "
               "always are (the \"cookies\" list)";
    }
    if (strcasecmp(name, "Authorization") == 0
        || strcasecmp(name, "Proxy-Authorization") == 0) {
        return apr_psprintf(cmd->pool, "ReqinLogHeaders: %s holds credentials "
                            "and is never logged", name);
    }
    /* The first name of the directive decides: "+Name" adds to the
     * inherited set, a plain name replaces it. */
    if (d->headers == NULL) {
        d->headers = apr_array_make(cmd->pool, 8, sizeof(rl_header_rule));
        d->with_defaults = add;
    }
    else if (add != d->with_defaults) {
        return "ReqinLogHeaders: either list the names to log, or only names "
               "with + to add to the inherited set, not both";
    }
    rule = apr_array_push(d->headers);
    rule->prefix = name[len - 1] == '*';
    rule->len = rule->prefix ? len - 1 : len;
    rule->name = apr_pstrndup(cmd->pool, name, rule->len);
    rl_header_rule_prepare(rule, rule->prefix ? NULL
                                  : apr_palloc(cmd->pool, rule->len + 3));
    return NULL;
}

static const char *rl_cmd_exclude(cmd_parms *cmd, void *dconf, const char *a1,
                                  const char *a2)
{
    rl_dir_conf *d = dconf;
    rl_exclude_rule *rule;
    if (d->exclude == NULL) {
        d->exclude = apr_array_make(cmd->pool, 2, sizeof(rl_exclude_rule));
    }
    rule = apr_array_push(d->exclude);
    memset(rule, 0, sizeof(*rule));
    if (strcmp(a1, "~") == 0) {
        if (a2 == NULL) {
            return "ReqinLogExclude: \"~\" must be followed by a regular "
                   "expression";
        }
        rule->regex = ap_pregcomp(cmd->pool, a2, AP_REG_EXTENDED | AP_REG_NOSUB);
        if (rule->regex == NULL) {
            return apr_psprintf(cmd->pool, "ReqinLogExclude: \"%s\" is not a "
                                "valid regular expression", a2);
        }
        return NULL;
    }
    if (a2 != NULL) {
        return "ReqinLogExclude: one path prefix, or ~ and a regular "
               "expression";
    }
    if (a1[0] != '/') {
        return apr_psprintf(cmd->pool, "ReqinLogExclude: \"%s\" is not a path "
                            "prefix (it must start with /; use ~ REGEX for "
                            "a regular expression)", a1);
    }
    rule->prefix = a1;
    rule->len = strlen(a1);
    return NULL;
}

static const char *rl_cmd_sample(cmd_parms *cmd, void *dconf, const char *arg)
{
    rl_dir_conf *d = dconf;
    char *end;
    double v;
    errno = 0;
    v = strtod(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !(v > 0.0 && v <= 1.0)) {
        return apr_psprintf(cmd->pool, "ReqinLogSample: \"%s\" is not a "
                            "fraction of requests greater than 0 and at most "
                            "1 (0.1 logs one request in ten)", arg);
    }
    d->sample = v;
    return NULL;
}

static const char *rl_cmd_enable(cmd_parms *cmd, void *dconf, int flag)
{
    ((rl_dir_conf *)dconf)->enabled = flag;
    return NULL;
}

static const command_rec rl_cmds[] = {
    AP_INIT_FLAG("ReqinLog", rl_cmd_enable, NULL, RSRC_CONF | ACCESS_CONF,
                 "On|Off: send a JSON record of each request to the "
                 "ReqinLogSocket receiver (default On)"),
    AP_INIT_TAKE12("ReqinLogSocket", rl_cmd_socket, NULL, RSRC_CONF,
                   "absolute path of the receiver's UNIX socket (default "
                   RL_DEFAULT_SOCKET "), optionally followed by seqpacket "
                   "(default) or dgram"),
    AP_INIT_ITERATE("ReqinLogHeaders", rl_cmd_headers, NULL,
                    RSRC_CONF | ACCESS_CONF,
                    "header names whose values are logged (Name, or Prefix* "
                    "such as Sec-Fetch-*); +Name adds to the inherited set; "
                    "none logs no values. Default: User-Agent Accept "
                    "Accept-Language Accept-Encoding Referer Sec-CH-UA* "
                    "Sec-Fetch-* Connection"),
    AP_INIT_TAKE1("ReqinLogMaxFieldLength", rl_cmd_max_field, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "bytes of a string field logged before it is cut and "
                  "named in \"truncated\" (16-65536, default 2048)"),
    AP_INIT_TAKE1("ReqinLogMaxRecordSize", rl_cmd_max_record, NULL, RSRC_CONF,
                  "largest record in bytes (1024-65536, default 16384); "
                  "long lists are shortened to fit"),
    AP_INIT_TAKE1("ReqinLogSendBuffer", rl_cmd_sndbuf, NULL, RSRC_CONF,
                  "SO_SNDBUF of each child's socket in bytes (the kernel "
                  "doubles it and caps it at net.core.wmem_max; 0: system "
                  "default; default 1048576)"),
    AP_INIT_TAKE1("ReqinLogFlushInterval", rl_cmd_flush, NULL, RSRC_CONF,
                  "milliseconds a record may wait to be sent with others in "
                  "one message (0-1000, default 20; 0: one message per "
                  "record)"),
    AP_INIT_TAKE12("ReqinLogExclude", rl_cmd_exclude, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "a URL-path prefix (/health), or ~ and a regular "
                   "expression, of requests not to log; repeatable"),
    AP_INIT_TAKE1("ReqinLogSample", rl_cmd_sample, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "fraction of requests logged, greater than 0 and at most 1 "
                  "(default 1)"),
    { NULL }
};

/* ------------------------------------------------------------------ */
/* Header names as they arrive (HTTP/1.x)                              */

/* Length of the field name at the start of a header line: the bytes before
 * ':', or before the line end when there is none. The line is usually a
 * short name then a long value, so 16 bytes per step with SSE2 (every
 * x86-64), the last step a load that ends at data[len-1] and overlaps the
 * bytes already checked; loads stay inside data[0..len). */
#if defined(__SSE2__)
#include <emmintrin.h>
static apr_size_t rl_name_len(const char *data, apr_size_t len)
{
    const __m128i colon = _mm_set1_epi8(':'), cr = _mm_set1_epi8('\r');
    const __m128i lf = _mm_set1_epi8('\n');
    apr_size_t i = 0;
    if (len >= 16) {
        for (;; i += 16) {
            __m128i v;
            unsigned mask;
            if (i + 16 > len) {
                i = len - 16;    /* bytes before the old i had none */
            }
            v = _mm_loadu_si128((const __m128i *)(const void *)(data + i));
            mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(
                _mm_cmpeq_epi8(v, colon),
                _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf))));
            if (mask != 0) return i + (apr_size_t)__builtin_ctz(mask);
            if (i + 16 == len) return len;
        }
    }
    while (i < len && data[i] != ':' && data[i] != '\r' && data[i] != '\n') i++;
    return i;
}
#else
static apr_size_t rl_name_len(const char *data, apr_size_t len)
{
    apr_size_t i = 0;
    while (i < len && data[i] != ':' && data[i] != '\r' && data[i] != '\n') i++;
    return i;
}
#endif

/* Appends a name to rq->names (see mod_reqin_log.h). */
static void rl_names_add(rl_req *rq, apr_pool_t *p, const char *name,
                         apr_size_t n)
{
    apr_uint32_t n32 = (apr_uint32_t)n;
    if (rq->names_cap - rq->names_len < sizeof(n32) + n) {
        apr_size_t cap = rq->names_cap * 2;
        char *grown;
        while (cap - rq->names_len < sizeof(n32) + n) cap *= 2;
        grown = apr_palloc(p, cap);
        memcpy(grown, rq->names, rq->names_len);
        rq->names = grown;
        rq->names_cap = cap;
    }
    memcpy(rq->names + rq->names_len, &n32, sizeof(n32));
    /* names are short: a few moves rather than a memcpy call */
    rl_json_copy(rq->names + rq->names_len + sizeof(n32), name, n);
    rq->names_len += sizeof(n32) + n;
    rq->nnames++;
    if (n > rq->names_max) rq->names_max = n;
}

/* The value of a Host line (what follows its ':', in this piece) without
 * its surrounding whitespace and line end (RFC 9112 5: field-line =
 * field-name ":" OWS field-value OWS). */
static void rl_sent_host(rl_req *rq, apr_pool_t *p, const char *v,
                         apr_size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) v++, n--;
    while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r'
                     || v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    if (n > RL_MAX_MAX_FIELD) n = RL_MAX_MAX_FIELD;
    rq->sent_host = apr_pstrmemdup(p, v, n);
    rq->sent_host_len = n;
}

/* Where the request target starts in the first len bytes of a request
 * line: after the method's space; NULL when those bytes end before it. */
static const char *rl_target_start(const char *data, apr_size_t len)
{
    const char *sp = memchr(data, ' ', len);
    return sp != NULL && sp + 1 < data + len ? sp + 1 : NULL;
}

/* Whether a field line whose name is data[0..n) is the Host line whose
 * value the record logs: the first one of an absolute-form request. */
static int rl_sent_host_line(const rl_req *rq, const char *data, apr_size_t n)
{
    return rq->absolute_form && rq->sent_host == NULL && n == 4
           && strncasecmp(data, "host", 4) == 0;
}

/* A field line's name (data[0] neither whitespace nor a line end; len
 * bytes of it at hand, at least up to the end of its name). Inlined: it
 * runs for nearly every header line, and a call's entry and exit were a
 * fifth of its cost. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void rl_field_line(rl_req *rq, apr_pool_t *p, const char *data,
                                 apr_size_t len)
{
    /* the name: the bytes before ':', or before the line end when there is
     * none (the parser will reject that line, but it was sent); a name
     * longer than any field may be is cut here */
    apr_size_t n;
    if (rq->nnames >= RL_MAX_NAMES) return;
    n = rl_name_len(data, len);
    if (n > RL_MAX_MAX_FIELD) n = RL_MAX_MAX_FIELD;
    rl_names_add(rq, p, data, n);
    if (rl_sent_host_line(rq, data, n) && n < len && data[n] == ':') {
        rl_sent_host(rq, p, data + n + 1, len - n - 1);
    }
}

/* One GETLINE result (the whole line, or an 8 KB piece of a longer one)
 * through the state machine below: its first len bytes (all of it, or at
 * least up to the end of a field name), ends_line when it ends in LF. */
static void rl_names_piece(rl_req *rq, apr_pool_t *p, const char *data,
                           apr_size_t len, int ends_line)
{
    int starts_line = rq->at_line_start;
    /* core returns a line in pieces of at most 8 KB */
    rq->at_line_start = ends_line;
    if (!starts_line) {
        return;
    }
    if (rq->hdr_state == RL_HDR_REQUEST_LINE) {
        if (data[0] != '\r' && data[0] != '\n') {
            /* RFC 9112 3.2: origin-form starts with "/", asterisk-form is
             * "*"; anything else after the method is absolute-form (or
             * authority-form, CONNECT's, which has no Host to replace) */
            const char *target = rl_target_start(data, len);
            rq->absolute_form = target != NULL && *target != '/' && *target != '*';
            rq->hdr_state = RL_HDR_FIELDS;   /* blank lines before it skipped */
        }
    }
    else if (rq->hdr_state == RL_HDR_FIELDS) {
        if (data[0] == '\r' || data[0] == '\n') {
            rq->hdr_state = RL_HDR_DONE;
        }
        else if (data[0] != ' ' && data[0] != '\t') {
            rl_field_line(rq, p, data, len);
        }
    }
}

/* Whether a line's first bucket holds all rl_names_piece reads of it: the
 * first byte of a piece that does not start a line, or past the blank line;
 * of the request line, the target's first byte (absolute-form or not); of
 * a field line, its name, and for the Host line of an absolute-form
 * request its whole value. Else the line is flattened (a copy; a line
 * split between buckets is rare). */
static int rl_piece_suffices(const rl_req *rq, const char *data, apr_size_t len)
{
    apr_size_t n;
    if (!rq->at_line_start || rq->hdr_state == RL_HDR_DONE) return 1;
    if (rq->hdr_state == RL_HDR_REQUEST_LINE) {
        return data[0] == '\r' || data[0] == '\n' || rl_target_start(data, len) != NULL;
    }
    n = rl_name_len(data, len);
    return n < len && !rl_sent_host_line(rq, data, n);
}

/* Connection thread, while ap_read_request reads the request line and the
 * header lines with AP_MODE_GETLINE (through r->proto_input_filters, then
 * the connection's filters, ours first among them): one GETLINE result.
 * Collected here, in the byte-counting filter that sees every read anyway,
 * rather than by a protocol filter of our own: that would be one more hop
 * per line and a filter added and removed per request.
 * RFC 9112 section 2.1: HTTP-message = start-line CRLF *( field-line CRLF )
 * CRLF [ message-body ]; section 5: field-line = field-name ":" OWS
 * field-value OWS. A line starting with SP or HTAB is an obs-fold
 * continuation (section 5.2), not a new field. */
static void rl_names_line(rl_req *rq, apr_bucket_brigade *bb)
{
    apr_bucket *b, *last;
    const char *data, *ldata;
    apr_size_t len, llen;
    char *flat;

    if (APR_BRIGADE_EMPTY(bb)) {
        return;
    }
    b = APR_BRIGADE_FIRST(bb);
    last = APR_BRIGADE_LAST(bb);
    /* empty data buckets before the line's bytes (what splitting a
     * brigade at a line end can leave) say nothing */
    while (b != last && !APR_BUCKET_IS_METADATA(b) && b->length == 0) {
        b = APR_BUCKET_NEXT(b);
    }
    /* The core hands a line over in buckets already in memory (so
     * apr_bucket_read does not block), usually one. With more, the first
     * one does when it holds what is read of the line (rl_piece_suffices);
     * the line's end is in the last one. Else the line is flattened (a
     * copy). */
    if (!APR_BUCKET_IS_METADATA(b) && !APR_BUCKET_IS_METADATA(last)
        && apr_bucket_read(b, &data, &len, APR_BLOCK_READ) == APR_SUCCESS
        && len > 0) {
        if (b == last) {
            rl_names_piece(rq, rq->pool, data, len, data[len - 1] == '\n');
            goto done;
        }
        if (rl_piece_suffices(rq, data, len)
            && apr_bucket_read(last, &ldata, &llen, APR_BLOCK_READ) == APR_SUCCESS
            && llen > 0) {
            rl_names_piece(rq, rq->pool, data, len, ldata[llen - 1] == '\n');
            goto done;
        }
    }
    if (apr_brigade_pflatten(bb, &flat, &len, rq->pool) == APR_SUCCESS
        && len > 0) {
        rl_names_piece(rq, rq->pool, flat, len, flat[len - 1] == '\n');
    }
done:
    if (rq->hdr_state == RL_HDR_DONE) {
        rq->conn->reading = NULL;
    }
}

/* The usual GETLINE result: one whole line in one heap bucket (the core
 * splits lines off the heap bucket a socket read became). Its bytes, read
 * without a call through the bucket type; NULL for anything else (mod_ssl's
 * transient buckets, a line in pieces), which rl_names_line handles. */
static APR_INLINE const char *rl_heap_line(apr_bucket_brigade *bb,
                                           apr_size_t *len)
{
    apr_bucket *b = APR_BRIGADE_FIRST(bb);
    const char *data;
    if (b == APR_BRIGADE_SENTINEL(bb)
        || APR_BUCKET_NEXT(b) != APR_BRIGADE_SENTINEL(bb)
        || !APR_BUCKET_IS_HEAP(b) || b->length == 0) {
        return NULL;
    }
    data = ((apr_bucket_heap *)b->data)->base + b->start;
    if (data[b->length - 1] != '\n') return NULL;
    *len = b->length;
    return data;
}

/* rl_names_line for what rl_heap_line found: a field line, the usual case,
 * straight to rl_field_line; the rest through the state machine. */
static APR_INLINE void rl_names_whole_line(rl_req *rq, const char *data,
                                           apr_size_t len)
{
    if (rq->at_line_start && rq->hdr_state == RL_HDR_FIELDS
        && data[0] != '\r' && data[0] != '\n'
        && data[0] != ' ' && data[0] != '\t') {
        rl_field_line(rq, rq->pool, data, len);
        return;
    }
    rl_names_piece(rq, rq->pool, data, len, 1);
    if (rq->hdr_state == RL_HDR_DONE) {
        rq->conn->reading = NULL;
    }
}

/* Adds the lengths of the buckets of bb to the connection's input count
 * (buckets of unknown length, none below HTTP in practice, are not read
 * here). */
static void rl_count_in(rl_conn *cs, apr_bucket_brigade *bb)
{
    for (apr_bucket *b = APR_BRIGADE_FIRST(bb);
         b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        if (b->length != (apr_size_t)-1) {
            cs->bytes_in += (apr_off_t)b->length;
        }
    }
}

/* r->pool cleanup: a request that goes before its blank line was read
 * (timeout, abort) must not be written to afterwards. */
static apr_status_t rl_reading_done(void *data)
{
    rl_req *rq = data;
    if (rq->conn->reading == rq) {
        rq->conn->reading = NULL;
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* HTTP/2 pseudo-header order (master connections)                     */

static apr_status_t rl_h2_cleanup(void *data)
{
    rl_h2_free(data);
    return APR_SUCCESS;
}

/* The connection thread (the master connection's: mod_http2 reads its
 * client's frames there, AP_MODE_READBYTES, through our filter, which sits
 * above mod_ssl's and so sees the decrypted bytes): the bytes go on
 * untouched; a copy of what they say goes through h2_pseudo.c.
 *
 * When does the frame stream start? RFC 9113 section 3.4: "In HTTP/2, each
 * endpoint is required to send a connection preface ... the client
 * connection preface starts with a sequence of 24 octets", sent first on
 * an h2 (TLS, ALPN) or prior-knowledge h2c connection, and after the 101
 * response on an upgraded one (section 3.2 of RFC 7540). So: a read whose
 * data starts with the preface, on a connection mod_http2 has taken
 * (ap_get_protocol: "h2" or "h2c"); an HTTP/1.x body that happens to
 * start with those bytes is not mistaken for one. */
static void rl_h2_watch(conn_rec *c, rl_conn *cs, apr_bucket_brigade *bb)
{
    for (apr_bucket *b = APR_BRIGADE_FIRST(bb);
         b != APR_BRIGADE_SENTINEL(bb) && cs->h2_watch != RL_H2_OFF;
         b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t len;
        if (APR_BUCKET_IS_METADATA(b)) continue;
        if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
            cs->h2_watch = RL_H2_OFF;     /* lost the stream: stop */
            break;
        }
        if (len == 0) continue;
        if (cs->h2_watch == RL_H2_LOOKING) {
            apr_size_t n = RL_H2_PREFACE_LEN - cs->h2_preface_got;
            const char *proto;
            if (n > len) n = len;
            if (memcmp(data, RL_H2_PREFACE + cs->h2_preface_got, n) != 0) {
                cs->h2_preface_got = 0;
                return;
            }
            cs->h2_preface_got += n;
            if (cs->h2_preface_got < RL_H2_PREFACE_LEN) continue;
            cs->h2_preface_got = 0;
            proto = ap_get_protocol(c);
            if (proto == NULL || strncmp(proto, "h2", 2) != 0) return;
            cs->h2 = rl_h2_new();
            if (cs->h2 == NULL || apr_thread_mutex_create(&cs->h2_lock,
                    APR_THREAD_MUTEX_DEFAULT, c->pool) != APR_SUCCESS) {
                rl_h2_free(cs->h2);
                cs->h2 = NULL;
                cs->h2_watch = RL_H2_OFF;
                return;
            }
            apr_pool_cleanup_register(c->pool, cs->h2, rl_h2_cleanup,
                                      apr_pool_cleanup_null);
            (void)rl_h2_feed(cs->h2, (const unsigned char *)RL_H2_PREFACE,
                             RL_H2_PREFACE_LEN);
            cs->h2_watch = RL_H2_PARSING;
            data += n;
            len -= n;
            if (len == 0) continue;
        }
        apr_thread_mutex_lock(cs->h2_lock);
        if (rl_h2_feed(cs->h2, (const unsigned char *)data, len) != 0) {
            cs->h2_watch = RL_H2_OFF;
            apr_atomic_inc32(&rl_h2_stopped);
            ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c, RQLOGNO(00014)
                          "HTTP/2 pseudo-header order: stopped parsing this "
                          "connection: %s", rl_h2_error(cs->h2));
        }
        apr_thread_mutex_unlock(cs->h2_lock);
    }
}

/* A stream's request thread, in post_read_request: its order, looked up
 * by stream id in the master connection's parser (which saw the HEADERS
 * frame before mod_http2 did, so it is there unless forgotten). */
static void rl_h2_order(request_rec *r, rl_conn *cs, rl_req *rq)
{
    rl_conn *root = cs ? cs->root : NULL;
    char *sid;
    int n;
    if (root == NULL || root->h2 == NULL || rl_http2_var_lookup == NULL) {
        return;
    }
    sid = rl_http2_var_lookup(r->pool, r->server, r->connection, r,
                              "H2_STREAM_ID");
    if (sid == NULL || *sid == '\0') return;
    apr_thread_mutex_lock(root->h2_lock);
    n = rl_h2_lookup(root->h2, (apr_uint32_t)strtoul(sid, NULL, 10),
                     rq->h2_order);
    apr_thread_mutex_unlock(root->h2_lock);
    rq->h2_n = n > 0 ? n : 0;
}

/* ------------------------------------------------------------------ */
/* Byte counting filters (connection level, between HTTP and TLS)      */

/* Any thread serving the connection. mod_logio's input count sits at
 * AP_FTYPE_NETWORK - 1 (TLS bytes); ours at AP_FTYPE_CONNECTION, above
 * mod_ssl's filters (AP_FTYPE_CONNECTION + 5), so it sees HTTP bytes. */
static apr_status_t rl_in_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                 ap_input_mode_t mode, apr_read_type_e block,
                                 apr_off_t readbytes)
{
    rl_conn *cs = f->ctx;
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    if (rv != APR_SUCCESS || mode == AP_MODE_SPECULATIVE) {
        return rv;
    }
    if (mode == AP_MODE_GETLINE) {
        apr_size_t len;
        const char *line = rl_heap_line(bb, &len);
        if (line != NULL) {
            cs->bytes_in += (apr_off_t)len;
            if (cs->reading != NULL) rl_names_whole_line(cs->reading, line, len);
            return rv;
        }
        rl_count_in(cs, bb);
        if (cs->reading != NULL) rl_names_line(cs->reading, bb);
        return rv;
    }
    rl_count_in(cs, bb);
    if (mode == AP_MODE_READBYTES && cs->h2_watch != RL_H2_OFF) {
        rl_h2_watch(f->c, cs, bb);
    }
    return rv;
}

static apr_status_t rl_out_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    rl_conn *cs = f->ctx;
    for (apr_bucket *b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        if (!APR_BUCKET_IS_METADATA(b) && b->length != (apr_size_t)-1) {
            cs->bytes_out += (apr_off_t)b->length;
        }
    }
    return ap_pass_brigade(f->next, bb);
}

/* ------------------------------------------------------------------ */
/* Hooks                                                               */

/* Thread serving the connection (the master's, or a stream's for h2). */
static int rl_pre_connection(conn_rec *c, void *csd)
{
    rl_conn *cs = apr_pcalloc(c->pool, sizeof(*cs));
    if (c->master == NULL) {
        apr_uint32_t seq = apr_atomic_inc32(&rl_conn_seq);
        cs->id = apr_psprintf(c->pool, "%s%x", rl_child_id ? rl_child_id : "0-0-",
                              (unsigned)seq);
        cs->root = cs;
        cs->h2_watch = RL_H2_LOOKING;
    }
    else {
        conn_rec *root = c->master;
        while (root->master) root = root->master;
        cs->root = ap_get_module_config(root->conn_config, &reqin_log_module);
        cs->id = cs->root ? cs->root->id : NULL;
        cs->h2_watch = RL_H2_OFF;
    }
    ap_set_module_config(c->conn_config, &reqin_log_module, cs);
    ap_add_input_filter_handle(rl_in_filter_handle, cs, NULL, c);
    ap_add_output_filter_handle(rl_out_filter_handle, cs, NULL, c);
    return OK;
}

static rl_conn *rl_conn_state(conn_rec *c)
{
    return ap_get_module_config(c->conn_config, &reqin_log_module);
}

/* Numbers the request on its root connection (HTTP/2 streams share the
 * root's counter, hence the atomic: the compiler's, one locked add in
 * place, rather than a call into libapr for every request). */
static apr_uint32_t rl_next_number(rl_conn *cs)
{
    if (cs == NULL || cs->root == NULL) return 0;
    return __atomic_add_fetch(&cs->root->requests, 1, __ATOMIC_SEQ_CST);
}

/* Connection thread, before ap_read_request reads the request line
 * (HTTP/1.x only: mod_http2 builds its requests from HEADERS frames). */
static void rl_pre_read_request(request_rec *r, conn_rec *c)
{
    rl_conn *cs;
    rl_req *rq;
    if (c->master != NULL) {
        return;
    }
    cs = rl_conn_state(c);
    /* with room for a browser's names (grows by doubling), in the same
     * allocation */
    rq = apr_palloc(r->pool, sizeof(*rq) + (cs ? RL_NAMES_INITIAL : 0));
    memset(rq, 0, sizeof(*rq));
    rq->number = rl_next_number(cs);
    rq->pool = r->pool;
    ap_set_module_config(r->request_config, &reqin_log_module, rq);
    if (cs == NULL) {
        return;       /* no filter on this connection: names from the table */
    }
    rq->names_cap = RL_NAMES_INITIAL;
    rq->names = (char *)(rq + 1);
    rq->hdr_state = RL_HDR_REQUEST_LINE;
    rq->at_line_start = 1;
    rq->conn = cs;
    cs->reading = rq;
    apr_pool_cleanup_register(r->pool, rq, rl_reading_done,
                              apr_pool_cleanup_null);
}

/* A copy of t's entries (only they are read at log time): one
 * allocation, without the table's index that apr_table_copy copies too. */
static const apr_array_header_t *rl_entries_copy(apr_pool_t *p,
                                                 const apr_table_t *t)
{
    const apr_array_header_t *src = apr_table_elts(t);
    apr_size_t bytes = (apr_size_t)src->nelts * (apr_size_t)src->elt_size;
    apr_array_header_t *a = apr_palloc(p, sizeof(*a) + bytes);
    a->pool = p;
    a->elt_size = src->elt_size;
    a->nelts = a->nalloc = src->nelts;
    a->elts = (char *)(a + 1);
    memcpy(a->elts, src->elts, bytes);
    return a;
}

/* Request thread; REALLY_FIRST: headers as parsed, before other modules
 * (mod_headers' early RequestHeader, mod_setenvif, ...) change them. */
static int rl_post_read_request(request_rec *r)
{
    rl_req *rq;
    if (r->main != NULL || r->prev != NULL) {
        return DECLINED;
    }
    rq = ap_get_module_config(r->request_config, &reqin_log_module);
    if (rq == NULL) {
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        rq->number = rl_next_number(rl_conn_state(r->connection));
        ap_set_module_config(r->request_config, &reqin_log_module, rq);
    }
    rq->headers = rl_entries_copy(r->pool, r->headers_in);
    if (r->connection->master != NULL) {
        rl_h2_order(r, rl_conn_state(r->connection), rq);
    }
    return DECLINED;
}

static int rl_excluded(const rl_dir_conf *d, const request_rec *r)
{
    const rl_exclude_rule *rules;
    if (d->exclude == NULL || r->uri == NULL) return 0;
    rules = (const rl_exclude_rule *)d->exclude->elts;
    for (int i = 0; i < d->exclude->nelts; i++) {
        if (rules[i].prefix
            ? strncmp(r->uri, rules[i].prefix, rules[i].len) == 0
            : ap_regexec(rules[i].regex, r->uri, 0, NULL, 0) == 0) {
            return 1;
        }
    }
    return 0;
}

/* xorshift64*, one state per thread: sampling needs no lock and no
 * syscall; the quality needed is "about one in N". */
static _Thread_local apr_uint64_t rl_rng_state = 0;

static int rl_sampled(const rl_dir_conf *d)
{
    apr_uint64_t x;
    if (d->sample < 0 || d->sample >= 1.0) return 1;
    x = rl_rng_state;
    if (x == 0) {
        x = (apr_uint64_t)apr_time_now() ^ ((apr_uint64_t)getpid() << 32)
            ^ (apr_uint64_t)(apr_uintptr_t)&rl_rng_state;
        if (x == 0) x = 0x9E3779B97F4A7C15ULL;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rl_rng_state = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0)
           < d->sample;
}

/* Request thread, when the request is done (the EOR bucket is destroyed:
 * the response has been handed to the network). Always OK/DECLINED. */
static int rl_log_transaction(request_rec *r)
{
    rl_dir_conf *d = ap_get_module_config(r->per_dir_config, &reqin_log_module);
    rl_srv_conf *sc = ap_get_module_config(r->server->module_config,
                                           &reqin_log_module);
    rl_conn *cs = rl_conn_state(r->connection);
    rl_req *rq = ap_get_module_config(r->request_config, &reqin_log_module);
    rl_transport *t;
    rl_limits lim;
    apr_off_t in_now = 0, out_now = 0;

    /* The byte counts between two log_transaction calls belong to this
     * request, logged or not. */
    if (cs) {
        in_now = cs->bytes_in;
        out_now = cs->bytes_out;
    }
    if (d->enabled == 0 || rl_excluded(d, r) || !rl_sampled(d)
        || rl_transports == NULL || (t = sc->transport) == NULL) {
        if (cs) {
            cs->mark_in = in_now;
            cs->mark_out = out_now;
        }
        return DECLINED;
    }
    if (rq == NULL) {
        /* rejected before post_read_request (400, 408, 414, 431, ...) */
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        rq->number = rl_next_number(cs);
    }
    if (rl_transport_drop_early(t)) {
        /* no receiver (backing off): counted as dropped, not built */
        if (cs) {
            cs->mark_in = in_now;
            cs->mark_out = out_now;
        }
        return OK;
    }
    lim.dir = d;
    lim.max_field = d->max_field != RL_UNSET ? (apr_size_t)d->max_field
                                             : RL_DEFAULT_MAX_FIELD;
    lim.max_record = sc->max_record ? (apr_size_t)sc->max_record
                                    : RL_DEFAULT_MAX_RECORD;
    /* one clock read for the duration and the transport */
    lim.now = apr_time_now();
    rl_log_record(r, &lim, cs, rq, t);
    if (cs) {
        cs->mark_in = in_now;
        cs->mark_out = out_now;
    }
    return OK;
}

static void rl_optional_fn_retrieve(void)
{
    rl_ssl_var_lookup = (rl_var_lookup_fn *)apr_dynamic_fn_retrieve("ssl_var_lookup");
    rl_http2_var_lookup = (rl_var_lookup_fn *)apr_dynamic_fn_retrieve("http2_var_lookup");
    rl_unique_id_loaded = ap_find_linked_module("mod_unique_id.c") != NULL;
}

/* Child exit: counters to the error log (warning if anything was lost). */
static apr_status_t rl_child_exit(void *data)
{
    server_rec *s = data;
    apr_hash_index_t *hi;
    if (rl_transports == NULL) return APR_SUCCESS;
    for (hi = apr_hash_first(NULL, rl_transports); hi; hi = apr_hash_next(hi)) {
        rl_transport *t = apr_hash_this_val(hi);
        rl_transport_stats st;
        apr_uint64_t dropped;
        rl_transport_close(t);      /* sends what is still batched */
        rl_transport_get_stats(t, &st);
        dropped = st.dropped_down + st.dropped_full + st.dropped_toobig
                  + st.dropped_error;
        ap_log_error(APLOG_MARK, dropped ? APLOG_WARNING : APLOG_INFO, 0, s,
                     RQLOGNO(00020) "child %" APR_PID_T_FMT " exiting: %s: "
                     "sent %" APR_UINT64_T_FMT ", dropped %" APR_UINT64_T_FMT
                     " (no receiver %" APR_UINT64_T_FMT ", receiver behind %"
                     APR_UINT64_T_FMT ", too large %" APR_UINT64_T_FMT
                     ", other %" APR_UINT64_T_FMT "), messages %"
                     APR_UINT64_T_FMT ", connections %" APR_UINT64_T_FMT
                     ", thread buffers %" APR_UINT64_T_FMT " (taken over "
                     "from exited threads %" APR_UINT64_T_FMT ")",
                     getpid(), rl_transport_path(t), st.sent, dropped,
                     st.dropped_down, st.dropped_full, st.dropped_toobig,
                     st.dropped_error, st.messages, st.connects, st.batches,
                     st.batch_reuses);
    }
    if (rl_h2_stopped) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, RQLOGNO(00021) "child %"
                     APR_PID_T_FMT " exiting: HTTP/2 pseudo-header order not "
                     "parsed on %u connection(s) (invalid frames or HPACK)",
                     getpid(), (unsigned)rl_h2_stopped);
    }
    rl_transports = NULL;
    return APR_SUCCESS;
}

/* Child process, after privileges were dropped: one socket per distinct
 * receiver path among the servers that may log. */
static void rl_child_init(apr_pool_t *pchild, server_rec *main_s)
{
    apr_hash_t *h = apr_hash_make(pchild);
    int threads = 1;

    /* Threads even under prefork: mod_http2 serves streams from its own
     * worker threads, and batching adds a flusher thread, so the lock and
     * the atomics are always used (uncontended: tens of nanoseconds). */
    rl_child_id = apr_psprintf(pchild, "%" APR_PID_T_FMT "-%" APR_UINT64_T_HEX_FMT "-",
                               getpid(), (apr_uint64_t)apr_time_now());
    /* request threads per child (1 under prefork): bounds the messages
     * each socket keeps per CPU */
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    for (server_rec *s = main_s; s; s = s->next) {
        rl_srv_conf *sc = ap_get_module_config(s->module_config, &reqin_log_module);
        const char *path = rl_socket_path(sc);
        rl_transport *t = apr_hash_get(h, path, APR_HASH_KEY_STRING);
        if (t != NULL) {
            sc->transport = t;
            continue;
        }
        t = rl_transport_create(pchild, main_s, path,
                                sc->socket_type ? sc->socket_type
                                                : RL_SOCK_SEQPACKET,
                                sc->sndbuf != RL_UNSET ? sc->sndbuf
                                                       : RL_DEFAULT_SNDBUF,
                                apr_time_from_msec(sc->flush_ms != RL_UNSET
                                                   ? sc->flush_ms
                                                   : RL_DEFAULT_FLUSH_MS),
                                threads);
        apr_hash_set(h, rl_transport_path(t), APR_HASH_KEY_STRING, t);
        rl_transport_open(t);
        sc->transport = t;
    }
    rl_transports = h;
    /* pre-cleanups run last registered first: this one before the
     * transports' own, while their flusher threads still run */
    apr_pool_pre_cleanup_register(pchild, main_s, rl_child_exit);
}

static void rl_register_hooks(apr_pool_t *p)
{
    rl_record_init();
    ap_hook_optional_fn_retrieve(rl_optional_fn_retrieve, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_child_init(rl_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_connection(rl_pre_connection, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_read_request(rl_pre_read_request, NULL, NULL, APR_HOOK_MIDDLE);
    /* REALLY_FIRST: before mod_headers' early RequestHeader edits and
     * mod_setenvif; after mod_unique_id, whose id is read at log time. */
    ap_hook_post_read_request(rl_post_read_request, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_log_transaction(rl_log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    rl_in_filter_handle = ap_register_input_filter("REQIN_LOG_IN", rl_in_filter,
                                                   NULL, AP_FTYPE_CONNECTION);
    rl_out_filter_handle = ap_register_output_filter("REQIN_LOG_OUT",
                                                     rl_out_filter, NULL,
                                                     AP_FTYPE_CONNECTION);
}

AP_DECLARE_MODULE(reqin_log) = {
    STANDARD20_MODULE_STUFF,
    rl_create_dir_conf,   /* create per-directory config structure */
    rl_merge_dir_conf,    /* merge per-directory config structures */
    rl_create_srv_conf,   /* create per-server config structure */
    rl_merge_srv_conf,    /* merge per-server config structures */
    rl_cmds,              /* command apr_table_t: the ReqinLog* directives */
    rl_register_hooks     /* register hooks */
};
