/*
 * record: the JSON record of one request. Runs in log_transaction, on the
 * thread that served the request. The record goes into a buffer the caller
 * hands over (the thread's own, see transport.h); other memory comes from
 * r->pool (and, for the connection's endpoints, once per connection from
 * c->pool).
 *
 * Invariants
 *  - The output is one valid JSON object and a '\n', at most max_record
 *    bytes, with no other raw newline: records are JSON lines, so batches
 *    of them split on '\n'.
 *  - Every string field uses at most max_field input bytes; a field cut by
 *    that limit, or by the record limit, is named in "truncated". Whole
 *    items that do not fit (a header value, a name in header_order) are left
 *    out and their list or object is named in "truncated".
 *  - Cookie values and credentials are never written: Cookie gives only
 *    cookie names; Cookie, Authorization and Proxy-Authorization values are
 *    never selected, whatever ReqinLogHeaders says.
 *  - Field order puts the small, always-useful fields first, so that a tight
 *    ReqinLogMaxRecordSize loses the long lists rather than the identity.
 *  - Cheap: this runs for every request (`npm run bench:httpd --
 *    --instructions` counts what it costs). Keys are compile-time literals
 *    written by inline code; a string with nothing to escape (nearly all)
 *    is checked 16 bytes at a time and copied in one step (json_writer.h);
 *    the header table is walked once, each name's length and lower-case
 *    first word computed once and compared with the rules' (header_name.h);
 *    the connection's id and endpoints are formatted once per connection.
 */
#include "mod_reqin_log.h"
#include "header_name.h"
#include "json_writer.h"

#include "http_core.h"
#include "http_protocol.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include <string.h>

rl_var_lookup_fn *rl_ssl_var_lookup = NULL;
rl_var_lookup_fn *rl_http2_var_lookup = NULL;

/* The default set: "User-Agent, Accept, Accept-Language,
 * Accept-Encoding, Referer, Sec-CH-UA and friends, Sec-Fetch-*, Connection". */
/* Not const: rl_record_init fills in the words. */
static rl_header_rule RL_DEFAULT_HEADERS[] = {
    { "User-Agent", 10, 0 },
    { "Accept", 6, 0 },
    { "Accept-Language", 15, 0 },
    { "Accept-Encoding", 15, 0 },
    { "Referer", 7, 0 },
    { "Sec-CH-UA", 9, 1 },        /* Sec-CH-UA, -Mobile, -Platform, ... */
    { "Sec-Fetch-", 10, 1 },
    { "Connection", 10, 0 },
};
#define RL_N_DEFAULT_HEADERS \
    ((int)(sizeof(RL_DEFAULT_HEADERS) / sizeof(RL_DEFAULT_HEADERS[0])))

/* Bytes kept back for `,"truncated":[...]}\n` while the body is written. */
#define RL_TAIL_RESERVE 160
#define RL_MAX_TRUNC 24

/* The names whose values are never written, and Host. */
static rl_name_key rl_key_cookie, rl_key_authorization,
                   rl_key_proxy_authorization, rl_key_host;

void rl_header_rule_prepare(rl_header_rule *rule)
{
    rule->word = rl_name_word(rule->name, rule->len);
    rule->mask = rl_name_mask(rule->len);
    rule->span = rule->prefix ? (apr_size_t)-1 - rule->len : 0;
}

void rl_record_init(void)
{
    for (int i = 0; i < RL_N_DEFAULT_HEADERS; i++) {
        rl_header_rule_prepare(&RL_DEFAULT_HEADERS[i]);
    }
    rl_name_key_init(&rl_key_cookie, "Cookie", 6);
    rl_name_key_init(&rl_key_host, "Host", 4);
    rl_name_key_init(&rl_key_authorization, "Authorization", 13);
    rl_name_key_init(&rl_key_proxy_authorization, "Proxy-Authorization", 19);
}

/* name (len bytes, its word from rl_name_word) against the rules: by
 * length, then the word, then byte by byte past the eighth byte. A rule
 * "*" (a prefix of length 0, mask 0) matches every name. */
static int rl_rules_match(const rl_header_rule *rules, int n, const char *name,
                          apr_size_t len, apr_uint64_t word)
{
    for (int i = 0; i < n; i++) {
        const rl_header_rule *r = &rules[i];
        /* exact: len == r->len; prefix: len >= r->len (unsigned: a
         * shorter name wraps around to more than any span) */
        if (len - r->len > r->span) continue;
        if ((word & r->mask) != r->word) continue;
        if (r->len <= 8 || rl_name_equal(name + 8, r->name + 8, r->len - 8)) {
            return 1;
        }
    }
    return 0;
}

static int rl_is_secret(const char *name, apr_size_t len, apr_uint64_t word)
{
    return rl_name_is(&rl_key_cookie, name, len, word)
        || rl_name_is(&rl_key_authorization, name, len, word)
        || rl_name_is(&rl_key_proxy_authorization, name, len, word);
}

static int rl_header_selected(const rl_dir_conf *d, const char *name,
                              apr_size_t len, apr_uint64_t word)
{
    if (len == 0 || rl_is_secret(name, len, word)) {
        return 0;
    }
    if (d->headers == NULL) {
        return rl_rules_match(RL_DEFAULT_HEADERS, RL_N_DEFAULT_HEADERS, name,
                              len, word);
    }
    return rl_rules_match((const rl_header_rule *)d->headers->elts,
                          d->headers->nelts, name, len, word)
        || (d->with_defaults
            && rl_rules_match(RL_DEFAULT_HEADERS, RL_N_DEFAULT_HEADERS, name,
                              len, word));
}

/* A member name: its JSON text `,"name":` and the plain name. The writers
 * below are inline: at each call the key is a constant, so its copy
 * becomes a few fixed-size moves. */
typedef struct {
    const char *json;
    apr_size_t len;
    const char *name;
} rl_key;
#define RL_KEY(n) (&(const rl_key){ ",\"" n "\":", sizeof(",\"" n "\":") - 1, n })

/* The writer, comma state, and the list of truncated field names. */
typedef struct {
    rl_json w;
    apr_pool_t *p;
    apr_size_t max_field;
    int first;                    /* no member written yet at this level */
    const char *trunc[RL_MAX_TRUNC];
    int ntrunc;
} rl_out;

static void rl_mark_truncated(rl_out *o, const char *name)
{
    for (int i = 0; i < o->ntrunc; i++) {
        if (strcmp(o->trunc[i], name) == 0) return;
    }
    if (o->ntrunc < RL_MAX_TRUNC) {
        o->trunc[o->ntrunc++] = name;
    }
}

/* `,"name":` (no comma for the first member). Caller rolls back on -1. */
static inline int rl_write_key(rl_out *o, const rl_key *k)
{
    return o->first ? rl_json_raw(&o->w, k->json + 1, k->len - 1)
                    : rl_json_raw(&o->w, k->json, k->len);
}

/* "name":"value" (or null); all or nothing except the value's length. */
static inline void rl_field_strn(rl_out *o, const rl_key *k, const char *v,
                                 apr_size_t n)
{
    size_t mark = o->w.len;
    int cut = 0;
    if (rl_write_key(o, k) != 0
        || (v == NULL ? RL_JSON_LIT(&o->w, "null")
                      : rl_json_str(&o->w, v, n, o->max_field, 0, &cut)) != 0) {
        o->w.len = mark;
        rl_mark_truncated(o, k->name);
        return;
    }
    if (cut) rl_mark_truncated(o, k->name);
    o->first = 0;
}

static inline void rl_field_str(rl_out *o, const rl_key *k, const char *v)
{
    rl_field_strn(o, k, v, v ? strlen(v) : 0);
}

static inline void rl_field_i64(rl_out *o, const rl_key *k, apr_int64_t v)
{
    size_t mark = o->w.len;
    if (rl_write_key(o, k) != 0 || rl_json_i64(&o->w, v) != 0) {
        o->w.len = mark;
        rl_mark_truncated(o, k->name);
        return;
    }
    o->first = 0;
}

/* Opens an array or object member: writes `"name":[` and keeps one byte
 * for the closing bracket. Returns 0, or -1 (nothing written). */
static inline int rl_open(rl_out *o, const rl_key *k, char bracket)
{
    size_t mark = o->w.len;
    if (rl_write_key(o, k) != 0
        || rl_json_raw(&o->w, &bracket, 1) != 0
        || rl_json_reserve(&o->w, 1) != 0) {
        o->w.len = mark;
        rl_mark_truncated(o, k->name);
        return -1;
    }
    o->first = 1;
    return 0;
}

static inline void rl_close(rl_out *o, char bracket)
{
    rl_json_release(&o->w, 1);
    (void)rl_json_raw(&o->w, &bracket, 1);   /* reserved: always fits */
    o->first = 0;
}

/* One string array element; returns 0 or -1 (nothing written). */
static inline int rl_elem_str(rl_out *o, const char *s, apr_size_t n,
                              int lower, int *cut)
{
    size_t mark = o->w.len;
    if ((!o->first && rl_json_raw(&o->w, ",", 1) != 0)
        || rl_json_str(&o->w, s, n, o->max_field, lower, cut) != 0) {
        o->w.len = mark;
        return -1;
    }
    o->first = 0;
    return 0;
}

/* `,"conn":...,"client_ip":...,"client_port":...,"local_ip":...,
 * "local_port":...` for connection c, into a new string from `p`. */
static const char *rl_format_endpoints(apr_pool_t *p, const char *conn_id,
                                       conn_rec *c, apr_size_t *len)
{
    char buf[512], ip[64];
    rl_out o;
    apr_sockaddr_t *ends[2] = { c->client_addr, c->local_addr };
    const rl_key *const ip_keys[2] = {
        RL_KEY("client_ip"), RL_KEY("local_ip")
    };
    const rl_key *const port_keys[2] = {
        RL_KEY("client_port"), RL_KEY("local_port")
    };
    memset(&o, 0, sizeof(o));
    o.max_field = 256;
    o.first = 0;          /* a fragment that follows other members */
    rl_json_init(&o.w, buf, sizeof(buf));
    rl_field_str(&o, RL_KEY("conn"), conn_id);
    for (int i = 0; i < 2; i++) {
        apr_sockaddr_t *sa = ends[i];
        if (sa && apr_sockaddr_ip_getbuf(ip, sizeof(ip), sa) == APR_SUCCESS) {
            rl_field_str(&o, ip_keys[i], ip);
            rl_field_i64(&o, port_keys[i], sa->port);
        }
        else {
            rl_field_str(&o, ip_keys[i], NULL);
            rl_field_i64(&o, port_keys[i], 0);
        }
    }
    *len = o.w.len;
    return apr_pstrmemdup(p, o.w.buf, o.w.len);
}

/* "header_order": the names as received, in order, with their case: from
 * the header lines themselves for HTTP/1.x (names, repeats included), else
 * from the parsed table (keys). */
static void rl_header_order(rl_out *o, const rl_req *rq,
                            const apr_array_header_t *arr)
{
    if (rl_open(o, RL_KEY("header_order"), '[') != 0) return;
    if (rq != NULL && rq->names != NULL) {
        /* packed: a length (apr_uint32_t, unaligned), then the bytes */
        const char *p = rq->names, *end = rq->names + rq->names_len;
        while (p < end) {
            apr_uint32_t n;
            int cut = 0;
            memcpy(&n, p, sizeof(n));
            p += sizeof(n);
            if (rl_elem_str(o, p, n, 0, &cut) != 0) {
                rl_mark_truncated(o, "header_order");
                break;
            }
            if (cut) rl_mark_truncated(o, "header_order");
            p += n;
        }
    }
    else {
        const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
        for (int i = 0; i < arr->nelts; i++) {
            int cut = 0;
            if (e[i].key == NULL) continue;
            if (rl_elem_str(o, e[i].key, strlen(e[i].key), 0, &cut) != 0) {
                rl_mark_truncated(o, "header_order");
                break;
            }
            if (cut) rl_mark_truncated(o, "header_order");
        }
    }
    rl_close(o, ']');
}

/* One pass over the request's header table, before anything is written:
 * each name's length and word (header_name.h) computed once, and the
 * entries sorted into Host, Cookie and the selected ones. */
#define RL_MAX_SELECTED 32
#define RL_MAX_COOKIE_HEADERS 16
typedef struct {
    const char *host;                       /* first Host value, or NULL */
    int nsel;
    int sel_full;                           /* more than RL_MAX_SELECTED */
    rl_name_key sel[RL_MAX_SELECTED];       /* selected names, first seen */
    const char *sel_val[RL_MAX_SELECTED];
    int ncookie;
    int cookie_full;                        /* more than RL_MAX_COOKIE_HEADERS */
    const char *cookie[RL_MAX_COOKIE_HEADERS];
} rl_hdr_scan;

static void rl_scan_headers(rl_hdr_scan *h, const apr_array_header_t *arr,
                            const rl_dir_conf *d)
{
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    h->host = NULL;
    h->nsel = h->sel_full = h->ncookie = h->cookie_full = 0;
    for (int i = 0; i < arr->nelts; i++) {
        const char *key = e[i].key;
        apr_size_t klen;
        apr_uint64_t word;
        int dup = 0;
        if (key == NULL) continue;
        klen = strlen(key);
        word = rl_name_word(key, klen);
        if (rl_name_is(&rl_key_host, key, klen, word)) {
            if (h->host == NULL) h->host = e[i].val;   /* as apr_table_get */
            /* Host is no secret: it may be selected too */
        }
        else if (rl_name_is(&rl_key_cookie, key, klen, word)) {
            if (e[i].val == NULL) continue;
            if (h->ncookie == RL_MAX_COOKIE_HEADERS) {
                h->cookie_full = 1;
                continue;
            }
            h->cookie[h->ncookie++] = e[i].val;
            continue;
        }
        if (h->sel_full || !rl_header_selected(d, key, klen, word)) continue;
        /* apr_table_compress has merged repeated names (HTTP/1); guard
         * anyway, so that no key appears twice in "headers" */
        for (int j = 0; j < h->nsel && !dup; j++) {
            dup = rl_name_is(&h->sel[j], key, klen, word);
        }
        if (dup) continue;
        if (h->nsel == RL_MAX_SELECTED) {     /* more than 32: enough */
            h->sel_full = 1;
            continue;
        }
        h->sel[h->nsel].name = key;
        h->sel[h->nsel].len = klen;
        h->sel[h->nsel].word = word;
        h->sel_val[h->nsel++] = e[i].val;
    }
}

/* "headers": {"lower-case-name": "value"} for the selected names. */
static void rl_header_values(rl_out *o, const rl_hdr_scan *h)
{
    if (rl_open(o, RL_KEY("headers"), '{') != 0) return;
    for (int i = 0; i < h->nsel; i++) {
        int cut_k = 0, cut_v = 0;
        size_t mark = o->w.len;
        int first = o->first;
        const char *key = h->sel[i].name, *val = h->sel_val[i];
        if (rl_elem_str(o, key, h->sel[i].len, 1, &cut_k) != 0
            || rl_json_raw(&o->w, ":", 1) != 0
            || rl_json_str(&o->w, val ? val : "", val ? strlen(val) : 0,
                           o->max_field, 0, &cut_v) != 0) {
            o->w.len = mark;
            o->first = first;
            rl_mark_truncated(o, "headers");
            break;
        }
        if (cut_k || cut_v) {
            char *tname = apr_pstrcat(o->p, "headers.", key, NULL);
            ap_str_tolower(tname);
            rl_mark_truncated(o, tname);
        }
    }
    if (h->sel_full) rl_mark_truncated(o, "headers");
    rl_close(o, '}');
}

/* Bytes that end a cookie name ('=', ';', NUL) or are skipped before one
 * (SP, HTAB, ';'). */
#define RL_CK_SKIP 1
#define RL_CK_NAME_END 2
static const unsigned char RL_COOKIE_CLASS[256] = {
    [0] = RL_CK_NAME_END, [' '] = RL_CK_SKIP, ['\t'] = RL_CK_SKIP,
    [';'] = RL_CK_SKIP | RL_CK_NAME_END, ['='] = RL_CK_NAME_END,
};

static void rl_cookie_names(rl_out *o, const rl_hdr_scan *h)
{
    if (rl_open(o, RL_KEY("cookies"), '[') != 0) return;
    for (int i = 0; i < h->ncookie; i++) {
        const unsigned char *p = (const unsigned char *)h->cookie[i];
        while (*p) {
            const unsigned char *name, *end;
            int cut = 0;
            while (RL_COOKIE_CLASS[*p] & RL_CK_SKIP) p++;
            if (!*p) break;
            name = p;
            while (!(RL_COOKIE_CLASS[*p] & RL_CK_NAME_END)) p++;
            end = p;
            while (end > name && (end[-1] == ' ' || end[-1] == '\t')) end--;
            /* the value, skipped: it may be kilobytes long, and strcspn
             * is vectorised where it matters */
            p += strcspn((const char *)p, ";");
            if (end == name) continue;
            if (rl_elem_str(o, (const char *)name, (apr_size_t)(end - name),
                            0, &cut) != 0) {
                rl_mark_truncated(o, "cookies");
                rl_close(o, ']');
                return;
            }
            if (cut) rl_mark_truncated(o, "cookies");
        }
    }
    if (h->cookie_full) rl_mark_truncated(o, "cookies");
    rl_close(o, ']');
}

/* "tls": mod_ssl's view of the connection through its ssl_var_lookup
 * optional function (mod_ssl documents "SSL_PROTOCOL", "SSL_CIPHER" and
 * "SSL_TLS_SNI" among its environment variables). Looked up on the root
 * connection: an HTTP/2 stream's TLS is its master connection's (these
 * reads of settled handshake state are what mod_http2 itself does from
 * stream threads). */
static void rl_tls(rl_out *o, request_rec *r, conn_rec *root)
{
    char *proto, *cipher, *sni;
    size_t mark = o->w.len;
    if (rl_ssl_var_lookup == NULL) return;
    proto = rl_ssl_var_lookup(r->pool, r->server, root, NULL, "SSL_PROTOCOL");
    if (proto == NULL || *proto == '\0') return;
    cipher = rl_ssl_var_lookup(r->pool, r->server, root, NULL, "SSL_CIPHER");
    sni = rl_ssl_var_lookup(r->pool, r->server, root, NULL, "SSL_TLS_SNI");
    if (rl_open(o, RL_KEY("tls"), '{') != 0) return;
    rl_field_str(o, RL_KEY("protocol"), proto);
    if (o->first) {             /* not even the protocol fitted */
        o->w.len = mark;
        rl_json_release(&o->w, 1);
        o->first = 0;
        return;
    }
    rl_field_str(o, RL_KEY("cipher"), cipher && *cipher ? cipher : NULL);
    rl_field_str(o, RL_KEY("sni"), sni && *sni ? sni : NULL);
    rl_close(o, '}');
}

apr_size_t rl_build_record(request_rec *r, const rl_limits *lim,
                           rl_conn *cs, rl_req *rq, char *buf)
{
    request_rec *last = r;
    conn_rec *c = r->connection, *root = c;
    const apr_table_t *hdrs;
    const apr_array_header_t *harr;
    rl_hdr_scan hs;
    const char *host, *uid, *ends;
    apr_size_t ends_len = 0;
    apr_time_t now = apr_time_now();
    rl_out o;

    while (last->next) last = last->next;
    while (root->master) root = root->master;

    o.ntrunc = 0;
    o.p = r->pool;
    o.max_field = lim->max_field;
    o.first = 0;                      /* "v" below is the first member */
    rl_json_init(&o.w, buf, lim->max_record);
    (void)rl_json_reserve(&o.w, RL_TAIL_RESERVE);   /* max_record >= 1024 */

    (void)RL_JSON_LIT(&o.w, "{\"v\":1");
    /* "time (microseconds, request start and duration)" */
    rl_field_i64(&o, RL_KEY("ts_us"), r->request_time);
    rl_field_i64(&o, RL_KEY("dur_us"), r->request_time ? now - r->request_time : 0);
    /* "a connection id ...; client IP and port as seen on the TCP
     * connection (c->client_addr, not a header), local IP and port":
     * formatted on the connection's first logged request (not at
     * pre_connection: mod_remoteip's PROXY protocol support replaces
     * client_addr after that). HTTP/1 requests of a connection are logged
     * one at a time on its thread; HTTP/2 streams run concurrently, so they
     * format their own copy. */
    if (cs && cs->root == cs && c == root) {
        if (cs->endpoints == NULL) {
            cs->endpoints = rl_format_endpoints(c->pool, cs->id, root,
                                                &cs->endpoints_len);
        }
        ends = cs->endpoints;
        ends_len = cs->endpoints_len;
    }
    else {
        ends = rl_format_endpoints(r->pool, cs && cs->root ? cs->root->id : NULL,
                                   root, &ends_len);
    }
    if (rl_json_raw(&o.w, ends, ends_len) != 0) {
        rl_mark_truncated(&o, "conn");
    }
    /* "and the request's number on that keep-alive connection" */
    rl_field_i64(&o, RL_KEY("req_n"), rq ? rq->number : 0);
    rl_field_str(&o, RL_KEY("vhost"), r->server->server_hostname);
    /* "method, scheme, host, the path and query exactly as the client sent
     * them (unparsed_uri), protocol (HTTP/1.0, 1.1, 2), status" */
    rl_field_str(&o, RL_KEY("method"), r->method);
    rl_field_str(&o, RL_KEY("scheme"), ap_http_scheme(r));
    hdrs = rq && rq->headers ? rq->headers : r->headers_in;
    harr = apr_table_elts(hdrs);
    rl_scan_headers(&hs, harr, lim->dir);
    host = hs.host;
    rl_field_str(&o, RL_KEY("host"), host ? host : r->hostname);
    rl_field_str(&o, RL_KEY("uri"), r->unparsed_uri);
    rl_field_str(&o, RL_KEY("proto"), r->protocol);
    rl_field_i64(&o, RL_KEY("status"), last->status);
    /* "bytes received and sent": counted by our connection filters between
     * HTTP and TLS, i.e. the request and the response as HTTP/1.x text; for
     * an HTTP/2 stream, its body bytes (its headers travel HPACK-compressed
     * on the shared connection). Without the filters: body bytes only. */
    if (cs) {
        rl_field_i64(&o, RL_KEY("bytes_in"), cs->bytes_in - cs->mark_in);
        rl_field_i64(&o, RL_KEY("bytes_out"), cs->bytes_out - cs->mark_out);
    }
    else {
        rl_field_i64(&o, RL_KEY("bytes_in"), r->read_length);
        rl_field_i64(&o, RL_KEY("bytes_out"), last->bytes_sent);
    }
    /* "the mod_unique_id id when loaded" */
    uid = apr_table_get(r->subprocess_env, "UNIQUE_ID");
    if (uid) rl_field_str(&o, RL_KEY("unique_id"), uid);
    rl_tls(&o, r, root);
    if (r->proto_num >= 2000 && rl_http2_var_lookup) {
        char *sid = rl_http2_var_lookup(r->pool, r->server, c, r, "H2_STREAM_ID");
        if (sid && *sid) {
            rl_field_i64(&o, RL_KEY("h2_stream"), apr_strtoi64(sid, NULL, 10));
        }
        /* "for HTTP/2 the pseudo-header order": mod_http2 keeps :method,
         * :scheme, :authority and :path in members of its h2_request and
         * records no order, so our filter on the master connection decoded
         * the HEADERS frame itself (h2_pseudo.c, mod_reqin_log.c). RFC 9113
         * section 8.3: "Pseudo-header fields are not HTTP header fields"
         * and they are not in header_order; their names as sent, in order. */
        if (rq && rq->h2_n > 0
            && rl_open(&o, RL_KEY("h2_pseudo_order"), '[') == 0) {
            for (int i = 0; i < rq->h2_n; i++) {
                const char *name = rl_h2_pseudo_name(rq->h2_order[i]);
                if (rl_elem_str(&o, name, strlen(name), 0, NULL) != 0) {
                    rl_mark_truncated(&o, "h2_pseudo_order");
                    break;
                }
            }
            rl_close(&o, ']');
        }
    }
    /* "the request header names in wire order with their case, and the
     * values of a configurable set ...; cookie names only, never cookie
     * values" */
    rl_header_order(&o, rq, harr);
    rl_header_values(&o, &hs);
    rl_cookie_names(&o, &hs);

    /* The tail: the reserve goes back, except room for "]}\n". Names that
     * do not fit are left out of the list (it is at most RL_MAX_TRUNC long
     * and usually empty). */
    rl_json_release(&o.w, RL_TAIL_RESERVE);
    (void)rl_json_reserve(&o.w, 3);
    if (RL_JSON_LIT(&o.w, ",\"truncated\":[") == 0) {
        o.first = 1;
        for (int i = 0; i < o.ntrunc; i++) {
            (void)rl_elem_str(&o, o.trunc[i], strlen(o.trunc[i]), 0, NULL);
        }
        rl_json_release(&o.w, 3);
        (void)rl_json_raw(&o.w, "]}\n", 3);
    }
    else {
        rl_json_release(&o.w, 3);
        (void)rl_json_raw(&o.w, "}\n", 2);
    }
    return o.w.len;
}
