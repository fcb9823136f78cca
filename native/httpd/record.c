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
 *    --instructions` counts what it costs). Everything the record says is
 *    looked up first (rl_gather, rl_scan_headers); then one check decides
 *    whether the worst case (every string byte escaped to 6 bytes) fits
 *    with nothing cut (rl_fast_fits). Nearly always it does, and
 *    rl_write_fast writes the record with no check per write
 *    (json_unchecked.h): keys are literals, each string is checked and
 *    copied 16 bytes at a time in one pass. Otherwise rl_write_checked,
 *    whose every write is bounded, cuts and names what does not fit; both
 *    write the same bytes when nothing is cut. The header table is walked
 *    once, each name's length and lower-case first and last words computed
 *    once and compared with the rules' (header_name.h); the connection's id
 *    and endpoints are formatted once per connection.
 */
#include "mod_reqin_log.h"
#include "header_name.h"
#include "json_writer.h"
#include "json_unchecked.h"

#include "http_core.h"
#include "http_protocol.h"
#include "apr_lib.h"
#include "apr_strings.h"
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
#include "http_ssl.h"
#endif

#include <string.h>

rl_var_lookup_fn *rl_ssl_var_lookup = NULL;
rl_var_lookup_fn *rl_http2_var_lookup = NULL;
int rl_unique_id_loaded = 0;

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

/* The default set, nearly every server's, looked up by hash instead of
 * rule by rule: its exact names in a direct-mapped table with linear
 * probing (6 names, 32 slots), its prefix rules in a short list. */
#define RL_DEF_SLOTS 32
static const rl_header_rule *rl_default_exact[RL_DEF_SLOTS];
static const rl_header_rule *rl_default_prefix[RL_N_DEFAULT_HEADERS];
static int rl_n_default_prefix;
/* the default rules' `"name":` keys */
static char rl_default_json[256];

static inline unsigned rl_name_slot(apr_uint64_t word, apr_size_t len)
{
    return (unsigned)(((word ^ len) * 0x9E3779B97F4A7C15ULL) >> 59);
}

void rl_header_rule_prepare(rl_header_rule *rule, char *json)
{
    rule->word = rl_name_word(rule->name, rule->len);
    rule->mask = rl_name_mask(rule->len);
    rule->tail = rule->len > 8 ? rl_name_tail(rule->name, rule->len) : 0;
    rule->span = rule->prefix ? (apr_size_t)-1 - rule->len : 0;
    rule->json = NULL;
    rule->json_len = 0;
    if (!rule->prefix && json != NULL) {
        /* the name is a token (letters, digits, !#$%&'*+-.^_`|~): no
         * byte to escape */
        json[0] = '"';
        memcpy(json + 1, rule->name, rule->len);
        rl_json_lower(json + 1, rule->len);
        json[rule->len + 1] = '"';
        json[rule->len + 2] = ':';
        rule->json = json;
        rule->json_len = rule->len + 3;
    }
}

void rl_record_init(void)
{
    char *json = rl_default_json;
    rl_n_default_prefix = 0;
    for (int i = 0; i < RL_N_DEFAULT_HEADERS; i++) {
        rl_header_rule *r = &RL_DEFAULT_HEADERS[i];
        rl_header_rule_prepare(r, json);
        json += r->json_len;
        if (r->prefix) {
            rl_default_prefix[rl_n_default_prefix++] = r;
        }
        else {
            unsigned slot = rl_name_slot(r->word, r->len);
            while (rl_default_exact[slot] != NULL) {
                slot = (slot + 1) % RL_DEF_SLOTS;
            }
            rl_default_exact[slot] = r;
        }
    }
    rl_name_key_init(&rl_key_cookie, "Cookie", 6);
    rl_name_key_init(&rl_key_host, "Host", 4);
    rl_name_key_init(&rl_key_authorization, "Authorization", 13);
    rl_name_key_init(&rl_key_proxy_authorization, "Proxy-Authorization", 19);
}

/* name (len bytes, its word from rl_name_word) against the rules: by
 * length, then the word, then byte by byte past the eighth byte. A rule
 * "*" (a prefix of length 0, mask 0) matches every name. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int rl_rule_matches(const rl_header_rule *r, const char *name,
                                  apr_size_t len, apr_uint64_t word)
{
    /* exact: len == r->len; prefix: len >= r->len (unsigned: a shorter
     * name wraps around to more than any span) */
    return len - r->len <= r->span && (word & r->mask) == r->word
           /* the name's first r->len bytes against the rule's */
           && (r->len <= 8 || rl_name_rest_equal(name, r->name, r->len, r->tail));
}

/* The first of the n rules that matches, or NULL. */
static inline const rl_header_rule *rl_rules_match(const rl_header_rule *rules,
                                                   int n, const char *name,
                                                   apr_size_t len,
                                                   apr_uint64_t word)
{
    for (int i = 0; i < n; i++) {
        if (rl_rule_matches(&rules[i], name, len, word)) return &rules[i];
    }
    return NULL;
}

/* The default set's rule that matches, or NULL (as rl_rules_match over
 * RL_DEFAULT_HEADERS: an exact rule, else a prefix rule). */
static const rl_header_rule *rl_default_match(const char *name, apr_size_t len,
                                              apr_uint64_t word)
{
    unsigned slot = rl_name_slot(word, len);
    const rl_header_rule *r;
    while ((r = rl_default_exact[slot]) != NULL) {
        if (rl_rule_matches(r, name, len, word)) return r;
        slot = (slot + 1) % RL_DEF_SLOTS;
    }
    for (int i = 0; i < rl_n_default_prefix; i++) {
        if (rl_rule_matches(rl_default_prefix[i], name, len, word)) {
            return rl_default_prefix[i];
        }
    }
    return NULL;
}

/* The rule of d's ReqinLogHeaders that selects the name (not Cookie,
 * Authorization, Proxy-Authorization: the caller has set those aside), or
 * NULL. */
static const rl_header_rule *rl_header_selected(const rl_dir_conf *d,
                                                const char *name,
                                                apr_size_t len,
                                                apr_uint64_t word)
{
    const rl_header_rule *r;
    if (d->headers == NULL) {
        return rl_default_match(name, len, word);
    }
    r = rl_rules_match((const rl_header_rule *)d->headers->elts,
                       d->headers->nelts, name, len, word);
    if (r == NULL && d->with_defaults) {
        r = rl_default_match(name, len, word);
    }
    return r;
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
    const char *sel_json[RL_MAX_SELECTED];  /* the rule's key, or NULL */
    apr_size_t sel_vlen[RL_MAX_SELECTED];   /* 0 for a NULL value */
    int ncookie;
    int cookie_full;                        /* more than RL_MAX_COOKIE_HEADERS */
    const char *cookie[RL_MAX_COOKIE_HEADERS];
    apr_size_t keys_total;                  /* bytes of all the names */
    apr_size_t keys_max;                    /* the longest name */
    /* where in the table each was found (rl_shape) */
    int host_idx;                           /* -1: no Host */
    int sel_idx[RL_MAX_SELECTED];
    int cookie_idx[RL_MAX_COOKIE_HEADERS];
} rl_hdr_scan;

static void rl_scan_headers(rl_hdr_scan *h, const apr_array_header_t *arr,
                            const rl_dir_conf *d)
{
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    h->host = NULL;
    h->host_idx = -1;
    h->nsel = h->sel_full = h->ncookie = h->cookie_full = 0;
    h->keys_total = h->keys_max = 0;
    for (int i = 0; i < arr->nelts; i++) {
        const char *key = e[i].key;
        const rl_header_rule *rule;
        apr_size_t klen;
        apr_uint64_t word;
        int dup = 0;
        if (key == NULL) continue;
        klen = strlen(key);
        h->keys_total += klen;
        if (klen > h->keys_max) h->keys_max = klen;
        word = rl_name_word(key, klen);
        /* Host, Cookie and the names never logged, by their lengths */
        switch (klen) {
        case 0:
            continue;
        case 4:
            if (rl_name_is(&rl_key_host, key, klen, word)
                && h->host == NULL) {
                h->host = e[i].val;                 /* as apr_table_get */
                h->host_idx = i;
            }
            break;      /* Host is no secret: it may be selected too */
        case 6:
            if (rl_name_is(&rl_key_cookie, key, klen, word)) {
                if (e[i].val == NULL) continue;
                if (h->ncookie == RL_MAX_COOKIE_HEADERS) {
                    h->cookie_full = 1;
                    continue;
                }
                h->cookie_idx[h->ncookie] = i;
                h->cookie[h->ncookie++] = e[i].val;
                continue;
            }
            break;
        case 13:
            if (rl_name_is(&rl_key_authorization, key, klen, word)) continue;
            break;
        case 19:
            if (rl_name_is(&rl_key_proxy_authorization, key, klen, word)) {
                continue;
            }
            break;
        default:
            break;
        }
        if (h->sel_full
            || (rule = rl_header_selected(d, key, klen, word)) == NULL) {
            continue;
        }
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
        h->sel[h->nsel].tail = klen > 8 ? rl_name_tail(key, klen) : 0;
        h->sel_vlen[h->nsel] = e[i].val ? strlen(e[i].val) : 0;
        h->sel_json[h->nsel] = rule->json;
        h->sel_idx[h->nsel] = i;
        h->sel_val[h->nsel++] = e[i].val;
    }
}

/* A connection's header shape: what rl_scan_headers found in the last
 * logged request's table, by position, and the body of its
 * "header_order" list, kept for the next request on the connection.
 * Browsers send the same header names in the same order on every request
 * of a keep-alive connection; then the table's names are the same (the
 * same lines parsed the same way: the same repeats merged, nothing else
 * changes them before our post_read_request, REALLY_FIRST), so what the
 * scan decides from the names (which entries are Host, Cookie, selected,
 * with which rule) and the header_order text are the same too, and only
 * the values are looked up again. Used only where that holds by
 * construction: HTTP/1.x requests whose names the connection filter
 * collected, exactly as many as the table has entries (nothing merged,
 * added or removed), and the default header set (a per-directory
 * ReqinLogHeaders may select differently from one request to the next).
 * Saves the scan's per-name work (lengths, words, rule lookups) and the
 * header_order writes: about 0.9k of the module's ~6.6k instructions per
 * request (`npm run bench:httpd -- --instructions`). */
#define RL_SHAPE_NAMES_CAP 512      /* rl_req.names bytes (lengths too) */
#define RL_SHAPE_ORDER_CAP 768      /* header_order's body, JSON */
#define RL_SHAPE_COOKIE_CAP 256     /* a Cookie value; the "cookies" body */
#define RL_SHAPE_COOKIES 32
typedef struct rl_shape {
    /* Laid out by when it is read: a hit reads the first line, the names,
     * and the entries of the selected headers, in that order; the cookie
     * names' fields come last. The fields used to be in declaration
     * order, the arrays full size in between: a hit touched ~14 lines of
     * a connection state that is rarely still in cache. */
    int valid;
    int nelts;
    int host_idx;
    int nsel;
    int ncookie;
    apr_uint32_t names_len;
    apr_uint32_t keys_total, keys_max;
    apr_uint32_t order_len;         /* 0: not kept (too long, or empty) */
    /* The cookie names of the last request with a single Cookie header
     * (kept apart from `valid`: a session's cookies outlive a change of
     * names), reused when the next one's Cookie value is the same: the
     * value, each name's offset and length in it, and the "cookies"
     * list's body. ck_len 0: none kept. */
    apr_uint32_t ck_len;
    int ck_n;
    apr_uint32_t ck_total, ck_max;  /* the names' bytes, the longest */
    apr_uint32_t ck_json_len;
    /* each selected name's entry in the table and its length (both at
     * most RL_SHAPE_NAMES_CAP), then its rule's key */
    struct { apr_uint16_t idx, len; } sel[RL_MAX_SELECTED];
    apr_uint16_t cookie_idx[RL_MAX_COOKIE_HEADERS];
    const char *sel_json[RL_MAX_SELECTED];
    char names[RL_SHAPE_NAMES_CAP];
    char order[RL_SHAPE_ORDER_CAP];
    apr_uint16_t ck_off[RL_SHAPE_COOKIES], ck_nlen[RL_SHAPE_COOKIES];
    char ck_val[RL_SHAPE_COOKIE_CAP];
    char ck_json[RL_SHAPE_COOKIE_CAP];
} rl_shape;

/* The connection's shape if this request may use or keep one, else NULL
 * (see rl_shape). */
static rl_shape *rl_shape_for(request_rec *r, rl_conn *cs, const rl_req *rq,
                              const rl_dir_conf *d)
{
    if (cs == NULL || cs->root != cs || r->connection->master != NULL
        || rq == NULL || rq->names == NULL || rq->headers == NULL
        || d->headers != NULL || rq->nnames != rq->headers->nelts
        || rq->names_len > RL_SHAPE_NAMES_CAP) {
        return NULL;
    }
    if (cs->shape == NULL) {
        /* its first line holds what every request reads */
        char *mem = apr_palloc(r->connection->pool, sizeof(rl_shape) + 63);
        cs->shape = (rl_shape *)(void *)(((apr_uintptr_t)mem + 63)
                                         & ~(apr_uintptr_t)63);
        cs->shape->valid = 0;
        cs->shape->ck_len = 0;
    }
    return cs->shape;
}

/* Fills h from the shape when this request's names are the shape's;
 * returns 1, or 0 (then the table is scanned). */
static int rl_shape_apply(rl_hdr_scan *h, const rl_shape *s,
                          const rl_req *rq, const apr_array_header_t *arr)
{
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    if (!s->valid || s->nelts != arr->nelts || s->names_len != rq->names_len
        || memcmp(s->names, rq->names, rq->names_len) != 0) {
        return 0;
    }
    h->sel_full = h->cookie_full = 0;
    h->keys_total = s->keys_total;
    h->keys_max = s->keys_max;
    h->host_idx = s->host_idx;
    h->host = s->host_idx >= 0 ? e[s->host_idx].val : NULL;
    h->nsel = s->nsel;
    for (int i = 0; i < s->nsel; i++) {
        const apr_table_entry_t *x = &e[s->sel[i].idx];
        h->sel_idx[i] = s->sel[i].idx;
        h->sel[i].name = x->key;
        h->sel[i].len = s->sel[i].len;
        h->sel_json[i] = s->sel_json[i];
        h->sel_val[i] = x->val;
        h->sel_vlen[i] = x->val ? strlen(x->val) : 0;
    }
    h->ncookie = s->ncookie;
    for (int i = 0; i < s->ncookie; i++) {
        const char *v = e[s->cookie_idx[i]].val;
        if (v == NULL) return 0;     /* the scan skips those: rescan */
        h->cookie_idx[i] = s->cookie_idx[i];
        h->cookie[i] = v;
    }
    return 1;
}

/* Keeps what the scan found for the next request (order_len: set by
 * rl_write_fast). */
static void rl_shape_keep(rl_shape *s, const rl_hdr_scan *h,
                          const rl_req *rq, const apr_array_header_t *arr)
{
    s->valid = 0;
    if (h->sel_full || h->cookie_full) return;
    s->nelts = arr->nelts;
    s->names_len = (apr_uint32_t)rq->names_len;
    memcpy(s->names, rq->names, rq->names_len);
    s->host_idx = h->host_idx;
    s->nsel = h->nsel;
    for (int i = 0; i < h->nsel; i++) {
        s->sel[i].idx = (apr_uint16_t)h->sel_idx[i];
        s->sel[i].len = (apr_uint16_t)h->sel[i].len;
        s->sel_json[i] = h->sel_json[i];
    }
    s->ncookie = h->ncookie;
    for (int i = 0; i < h->ncookie; i++) {
        s->cookie_idx[i] = (apr_uint16_t)h->cookie_idx[i];
    }
    s->keys_total = (apr_uint32_t)h->keys_total;
    s->keys_max = (apr_uint32_t)h->keys_max;
    s->order_len = 0;
    s->valid = 1;
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
            || rl_json_str(&o->w, val ? val : "", h->sel_vlen[i],
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
    [';'] = RL_CK_SKIP | RL_CK_NAME_END, [','] = RL_CK_SKIP, ['='] = RL_CK_NAME_END,
};

/* ", ": where Apache joined two Cookie lines (see rl_cookie_pair). */
static inline int rl_cookie_join(const unsigned char *p)
{
    return p[0] == ',' && p[1] == ' ';
}

/* The next cookie pair of a Cookie value from p: its name in [*name, *end)
 * (trailing blanks cut; may be empty); returns where the pair after it
 * starts, or NULL at the end of the value. RFC 6265 5.4: "cookie-pair
 * *( ";" SP cookie-pair )", the name before "=". Both record writers parse
 * names with this, so the checked and the unchecked one agree.
 *
 * Apache joins repeated Cookie lines into one value with ", "
 * (apr_table_compress, APR_OVERLAP_TABLES_MERGE), so ", " also ends a pair:
 * RFC 6265 4.1.1's cookie-octet excludes both the comma and the space, so
 * no conforming value holds them. A lone ',' (seen in nonconforming
 * values) does not. */
static const unsigned char *rl_cookie_pair(const unsigned char *p,
                                           const unsigned char **name,
                                           const unsigned char **end)
{
    const unsigned char *e;
    while (RL_COOKIE_CLASS[*p] & RL_CK_SKIP) p++;
    if (!*p) return NULL;
    *name = p;
    while (!(RL_COOKIE_CLASS[*p] & RL_CK_NAME_END) && !rl_cookie_join(p)) p++;
    e = p;
    while (e > *name && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *end = e;
    /* the value, skipped: it may be kilobytes long, and strcspn is
     * vectorised where it matters */
    for (;;) {
        p += strcspn((const char *)p, ";,");
        if (*p != ',' || rl_cookie_join(p)) return p;
        p++;
    }
}

static void rl_cookie_names(rl_out *o, const rl_hdr_scan *h)
{
    if (rl_open(o, RL_KEY("cookies"), '[') != 0) return;
    for (int i = 0; i < h->ncookie; i++) {
        const unsigned char *p = (const unsigned char *)h->cookie[i];
        const unsigned char *name, *end;
        while ((p = rl_cookie_pair(p, &name, &end)) != NULL) {
            int cut = 0;
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

/* A string field's value and length (NULL: written as null). */
typedef struct {
    const char *p;
    apr_size_t n;
} rl_span;

static inline rl_span rl_span_of(const char *p)
{
    rl_span sp = { p, p ? strlen(p) : 0 };
    return sp;
}

/* Everything a record says, looked up once (the optional functions, the
 * header table, the connection's endpoints), before either writer runs. */
typedef struct {
    apr_int64_t ts_us, dur_us, req_n, status, bytes_in, bytes_out;
    const char *ends;                  /* `,"conn":...,"local_port":N` */
    apr_size_t ends_len;
    rl_span vhost, method, scheme, host, uri, proto, uid;
    /* "tls": when mod_ssl says the connection has a protocol */
    int tls;
    rl_span tls_proto, tls_cipher, tls_sni;
    /* HTTP/2 with mod_http2's lookup: the stream id, the pseudo order */
    int h2;
    int has_stream;
    apr_int64_t h2_stream;
    const rl_req *rq;
    const apr_array_header_t *harr;    /* the header table */
    rl_hdr_scan hs;
} rl_parts;

/* "tls": mod_ssl's view of the connection through its ssl_var_lookup
 * optional function (mod_ssl documents "SSL_PROTOCOL", "SSL_CIPHER" and
 * "SSL_TLS_SNI" among its environment variables). Looked up on the root
 * connection: an HTTP/2 stream's TLS is its master connection's (these
 * reads of settled handshake state are what mod_http2 itself does from
 * stream threads). */
static void rl_tls_lookup(rl_parts *pt, request_rec *r, conn_rec *root)
{
    char *proto, *cipher, *sni;
    pt->tls = 0;
    if (rl_ssl_var_lookup == NULL) return;
#if AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
    /* Since 2.4.49 the core registers ssl_var_lookup itself, so the
     * pointer is never NULL and a plain connection paid a variable lookup
     * (~0.08% of Apache's CPU) to learn it is plain. ap_ssl_conn_is_ssl
     * asks the TLS modules' hooks (and an old-style ssl_is_https) for this
     * connection, now: a connection upgraded to TLS (RFC 2817, SSLEngine
     * optional) answers yes from then on. el8's 2.4.37 lacks it. */
    if (!ap_ssl_conn_is_ssl(root)) return;
#endif
    proto = rl_ssl_var_lookup(r->pool, r->server, root, NULL, "SSL_PROTOCOL");
    if (proto == NULL || *proto == '\0') return;
    cipher = rl_ssl_var_lookup(r->pool, r->server, root, NULL, "SSL_CIPHER");
    sni = rl_ssl_var_lookup(r->pool, r->server, root, NULL, "SSL_TLS_SNI");
    pt->tls = 1;
    pt->tls_proto = rl_span_of(proto);
    pt->tls_cipher = rl_span_of(cipher && *cipher ? cipher : NULL);
    pt->tls_sni = rl_span_of(sni && *sni ? sni : NULL);
}

static void rl_tls(rl_out *o, const rl_parts *pt)
{
    size_t mark = o->w.len;
    if (!pt->tls || rl_open(o, RL_KEY("tls"), '{') != 0) return;
    rl_field_strn(o, RL_KEY("protocol"), pt->tls_proto.p, pt->tls_proto.n);
    if (o->first) {             /* not even the protocol fitted */
        o->w.len = mark;
        rl_json_release(&o->w, 1);
        o->first = 0;
        return;
    }
    rl_field_strn(o, RL_KEY("cipher"), pt->tls_cipher.p, pt->tls_cipher.n);
    rl_field_strn(o, RL_KEY("sni"), pt->tls_sni.p, pt->tls_sni.n);
    rl_close(o, '}');
}

static void rl_gather(rl_parts *pt, request_rec *r, rl_conn *cs, rl_req *rq,
                      apr_time_t now)
{
    request_rec *last = r;
    conn_rec *c = r->connection, *root = c;
    while (last->next) last = last->next;
    while (root->master) root = root->master;

    /* "time (microseconds, request start and duration)" */
    pt->ts_us = r->request_time;
    pt->dur_us = r->request_time ? now - r->request_time : 0;
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
        pt->ends = cs->endpoints;
        pt->ends_len = cs->endpoints_len;
    }
    else {
        pt->ends = rl_format_endpoints(r->pool,
                                       cs && cs->root ? cs->root->id : NULL,
                                       root, &pt->ends_len);
    }
    /* "and the request's number on that keep-alive connection" */
    pt->req_n = rq ? rq->number : 0;
    pt->vhost = rl_span_of(r->server->server_hostname);
    /* "method, scheme, host, the path and query exactly as the client sent
     * them (unparsed_uri), protocol (HTTP/1.0, 1.1, 2), status" */
    pt->method = rl_span_of(r->method);
    pt->scheme = rl_span_of(ap_http_scheme(r));
    pt->harr = rq && rq->headers ? rq->headers : apr_table_elts(r->headers_in);
    pt->rq = rq;
    pt->uri = rl_span_of(r->unparsed_uri);
    pt->proto = rl_span_of(r->protocol);
    pt->status = last->status;
    /* "bytes received and sent": counted by our connection filters between
     * HTTP and TLS, i.e. the request and the response as HTTP/1.x text; for
     * an HTTP/2 stream, its body bytes (its headers travel HPACK-compressed
     * on the shared connection). Without the filters: body bytes only. */
    if (cs) {
        pt->bytes_in = cs->bytes_in - cs->mark_in;
        pt->bytes_out = cs->bytes_out - cs->mark_out;
    }
    else {
        pt->bytes_in = r->read_length;
        pt->bytes_out = last->bytes_sent;
    }
    /* "the mod_unique_id id when loaded" */
    pt->uid = rl_span_of(rl_unique_id_loaded
                         ? apr_table_get(r->subprocess_env, "UNIQUE_ID")
                         : NULL);
    rl_tls_lookup(pt, r, root);
    pt->h2 = r->proto_num >= 2000 && rl_http2_var_lookup != NULL;
    pt->has_stream = 0;
    if (pt->h2) {
        char *sid = rl_http2_var_lookup(r->pool, r->server, c, r, "H2_STREAM_ID");
        if (sid && *sid) {
            pt->has_stream = 1;
            pt->h2_stream = apr_strtoi64(sid, NULL, 10);
        }
    }
}

/* The record with every write checked: fields cut to max_field, lists
 * shortened to fit max_record, and whatever was cut named in "truncated". */
static apr_size_t rl_write_checked(const rl_parts *pt, const rl_limits *lim,
                                   apr_pool_t *pool, char *buf)
{
    const rl_req *rq = pt->rq;
    rl_out o;

    o.ntrunc = 0;
    o.p = pool;
    o.max_field = lim->max_field;
    o.first = 0;                      /* "v" below is the first member */
    rl_json_init(&o.w, buf, lim->max_record);
    (void)rl_json_reserve(&o.w, RL_TAIL_RESERVE);   /* max_record >= 1024 */

    (void)RL_JSON_LIT(&o.w, "{\"v\":1");
    rl_field_i64(&o, RL_KEY("ts_us"), pt->ts_us);
    rl_field_i64(&o, RL_KEY("dur_us"), pt->dur_us);
    if (rl_json_raw(&o.w, pt->ends, pt->ends_len) != 0) {
        rl_mark_truncated(&o, "conn");
    }
    rl_field_i64(&o, RL_KEY("req_n"), pt->req_n);
    rl_field_strn(&o, RL_KEY("vhost"), pt->vhost.p, pt->vhost.n);
    rl_field_strn(&o, RL_KEY("method"), pt->method.p, pt->method.n);
    rl_field_strn(&o, RL_KEY("scheme"), pt->scheme.p, pt->scheme.n);
    rl_field_strn(&o, RL_KEY("host"), pt->host.p, pt->host.n);
    rl_field_strn(&o, RL_KEY("uri"), pt->uri.p, pt->uri.n);
    rl_field_strn(&o, RL_KEY("proto"), pt->proto.p, pt->proto.n);
    rl_field_i64(&o, RL_KEY("status"), pt->status);
    rl_field_i64(&o, RL_KEY("bytes_in"), pt->bytes_in);
    rl_field_i64(&o, RL_KEY("bytes_out"), pt->bytes_out);
    if (pt->uid.p) rl_field_strn(&o, RL_KEY("unique_id"), pt->uid.p, pt->uid.n);
    rl_tls(&o, pt);
    if (pt->h2) {
        if (pt->has_stream) {
            rl_field_i64(&o, RL_KEY("h2_stream"), pt->h2_stream);
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
    rl_header_order(&o, rq, pt->harr);
    rl_header_values(&o, &pt->hs);
    rl_cookie_names(&o, &pt->hs);

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

/* ------------------------------------------------------------------ */
/* The unchecked writer: nearly every record                          */

/* Cookie names (rl_cookie_names' parsing), collected for the unchecked
 * writer; more than this many: the checked writer. */
#define RL_FAST_MAX_COOKIES 64
typedef struct {
    int n;
    /* 1: the names are the connection's shape's (rl_cookie_reuse) */
    int reused;
    /* the single Cookie value, its length (rl_cookie_keep); NULL: none */
    const char *val;
    apr_size_t val_len;
    apr_size_t max;                 /* the longest name */
    rl_span name[RL_FAST_MAX_COOKIES];
} rl_cookie_list;

/* The cookie names from the shape when the request's only Cookie value
 * is the one they were found in; returns 1 (names, *total updated), or 0
 * (then parsed). Also notes the value for rl_cookie_keep. */
static int rl_cookie_reuse(rl_cookie_list *l, const rl_hdr_scan *h,
                           const rl_shape *s, apr_size_t max_field,
                           apr_size_t *total)
{
    const char *v;
    apr_size_t n;
    l->reused = 0;
    l->val = NULL;
    if (s == NULL || h->ncookie != 1) return 0;
    v = h->cookie[0];
    n = strlen(v);
    l->val = v;
    l->val_len = n;
    if (s->ck_len != n || n == 0 || s->ck_max > max_field
        || memcmp(s->ck_val, v, n) != 0) {
        return 0;
    }
    l->n = s->ck_n;
    for (int i = 0; i < s->ck_n; i++) {
        l->name[i].p = v + s->ck_off[i];
        l->name[i].n = s->ck_nlen[i];
    }
    *total += s->ck_total;
    l->reused = 1;
    return 1;
}

/* The cookie names, parsed exactly as rl_cookie_names does; -1 when there
 * are more than RL_FAST_MAX_COOKIES or one is longer than max_field. */
static int rl_cookie_collect(rl_cookie_list *l, const rl_hdr_scan *h,
                             apr_size_t max_field, apr_size_t *total)
{
    l->n = 0;
    l->max = 0;
    for (int i = 0; i < h->ncookie; i++) {
        const unsigned char *p = (const unsigned char *)h->cookie[i];
        const unsigned char *name, *end;
        while ((p = rl_cookie_pair(p, &name, &end)) != NULL) {
            if (end == name) continue;
            if (l->n == RL_FAST_MAX_COOKIES
                || (apr_size_t)(end - name) > max_field) {
                return -1;
            }
            l->name[l->n].p = (const char *)name;
            l->name[l->n++].n = (apr_size_t)(end - name);
            *total += (apr_size_t)(end - name);
            if ((apr_size_t)(end - name) > l->max) {
                l->max = (apr_size_t)(end - name);
            }
        }
    }
    return 0;
}

/* Room for everything but the strings' bytes: member names, numbers (21
 * bytes each at most), brackets and the tail `,"truncated":[]}\n`, about
 * 400 bytes; and per string item its quotes, a comma and a colon. */
#define RL_FAST_FIXED 640
#define RL_FAST_PER_ITEM 4

/* Adds a string field to the bound; 0, or -1 when it is longer than
 * max_field (the checked writer cuts it). NULL counts as "null". */
static inline int rl_fast_add(apr_size_t *total, int *items, rl_span sp,
                              apr_size_t max_field)
{
    if (sp.n > max_field) return -1;
    *total += sp.p ? sp.n : 4;
    (*items)++;
    return 0;
}

/* Whether the record certainly fits without cutting anything: the worst
 * case of every string (RL_JSON_MAX_EXPANSION output bytes per input
 * byte), within the space the checked writer gives the body
 * (max_record - RL_TAIL_RESERVE). Then both writers write the same bytes,
 * and the unchecked one needs no check per write. Fills `ck`. */
static int rl_fast_fits(const rl_parts *pt, const rl_limits *lim,
                        const rl_shape *shape, rl_cookie_list *ck,
                        apr_size_t *bound_out)
{
    const rl_hdr_scan *h = &pt->hs;
    const rl_req *rq = pt->rq;
    apr_size_t mf = lim->max_field, total = 0, bound;
    int items = 0;

    if (rl_fast_add(&total, &items, pt->vhost, mf) != 0
        || rl_fast_add(&total, &items, pt->method, mf) != 0
        || rl_fast_add(&total, &items, pt->scheme, mf) != 0
        || rl_fast_add(&total, &items, pt->host, mf) != 0
        || rl_fast_add(&total, &items, pt->uri, mf) != 0
        || rl_fast_add(&total, &items, pt->proto, mf) != 0
        || rl_fast_add(&total, &items, pt->uid, mf) != 0) {
        return 0;
    }
    if (pt->tls
        && (rl_fast_add(&total, &items, pt->tls_proto, mf) != 0
            || rl_fast_add(&total, &items, pt->tls_cipher, mf) != 0
            || rl_fast_add(&total, &items, pt->tls_sni, mf) != 0)) {
        return 0;
    }
    if (pt->h2 && rq && rq->h2_n > 0) {
        total += (apr_size_t)rq->h2_n * 10;    /* ":authority" at most */
        items += rq->h2_n;
    }
    /* header_order */
    if (rq != NULL && rq->names != NULL) {
        if (rq->names_max > mf) return 0;
        total += rq->names_len;                /* lengths included: more */
        items += rq->nnames;
    }
    else {
        if (h->keys_max > mf) return 0;
        total += h->keys_total;
        items += pt->harr->nelts;
    }
    /* headers */
    if (h->sel_full) return 0;
    for (int i = 0; i < h->nsel; i++) {
        if (h->sel[i].len > mf || h->sel_vlen[i] > mf) return 0;
        total += h->sel[i].len + h->sel_vlen[i];
    }
    items += 2 * h->nsel;
    /* cookies */
    if (h->cookie_full
        || (!rl_cookie_reuse(ck, h, shape, mf, &total)
            && rl_cookie_collect(ck, h, mf, &total) != 0)) {
        return 0;
    }
    items += ck->n;
    bound = RL_FAST_FIXED + pt->ends_len + RL_JSON_MAX_EXPANSION * total
            + RL_FAST_PER_ITEM * (apr_size_t)items;
    *bound_out = bound;
    return bound <= lim->max_record - RL_TAIL_RESERVE;
}

/* Keeps the names of a single Cookie value and their JSON text (from,
 * end) for the next request (rl_cookie_reuse). */
static void rl_cookie_keep(rl_shape *s, const rl_cookie_list *ck,
                           const char *from, const char *end)
{
    apr_size_t json_len = (apr_size_t)(end - from);
    s->ck_len = 0;
    if (ck->val == NULL || ck->val_len == 0
        || ck->val_len > RL_SHAPE_COOKIE_CAP || ck->n > RL_SHAPE_COOKIES
        || json_len > RL_SHAPE_COOKIE_CAP) {
        return;
    }
    s->ck_total = 0;
    for (int i = 0; i < ck->n; i++) {
        s->ck_off[i] = (apr_uint16_t)(ck->name[i].p - ck->val);
        s->ck_nlen[i] = (apr_uint16_t)ck->name[i].n;
        s->ck_total += ck->name[i].n;
    }
    s->ck_n = ck->n;
    s->ck_max = ck->max;
    memcpy(s->ck_val, ck->val, ck->val_len);
    memcpy(s->ck_json, from, json_len);
    s->ck_json_len = json_len;
    s->ck_len = ck->val_len;
}

/* `,"name":` then the string or null. */
#define RL_PUT_FIELD(o, key, sp)                                          \
    ((sp).p ? rl_put_str(RL_PUT_LIT((o), ",\"" key "\":"), (sp).p, (sp).n, 0) \
            : RL_PUT_LIT(RL_PUT_LIT((o), ",\"" key "\":"), "null"))

/* The same bytes as rl_write_checked when nothing is cut (rl_fast_fits),
 * without a check per write. */
static apr_size_t rl_write_fast(const rl_parts *pt, const rl_cookie_list *ck,
                                rl_shape *shape, int shape_hit, char *buf)
{
    const rl_hdr_scan *h = &pt->hs;
    const rl_req *rq = pt->rq;
    char *o = buf;

    o = RL_PUT_LIT(o, "{\"v\":1,\"ts_us\":");
    o = rl_put_i64(o, pt->ts_us);
    o = RL_PUT_LIT(o, ",\"dur_us\":");
    o = rl_put_i64(o, pt->dur_us);
    memcpy(o, pt->ends, pt->ends_len);
    o += pt->ends_len;
    o = RL_PUT_LIT(o, ",\"req_n\":");
    o = rl_put_i64(o, pt->req_n);
    o = RL_PUT_FIELD(o, "vhost", pt->vhost);
    o = RL_PUT_FIELD(o, "method", pt->method);
    o = RL_PUT_FIELD(o, "scheme", pt->scheme);
    o = RL_PUT_FIELD(o, "host", pt->host);
    o = RL_PUT_FIELD(o, "uri", pt->uri);
    o = RL_PUT_FIELD(o, "proto", pt->proto);
    o = RL_PUT_LIT(o, ",\"status\":");
    o = rl_put_i64(o, pt->status);
    o = RL_PUT_LIT(o, ",\"bytes_in\":");
    o = rl_put_i64(o, pt->bytes_in);
    o = RL_PUT_LIT(o, ",\"bytes_out\":");
    o = rl_put_i64(o, pt->bytes_out);
    if (pt->uid.p) o = RL_PUT_FIELD(o, "unique_id", pt->uid);
    if (pt->tls) {
        o = RL_PUT_LIT(o, ",\"tls\":{\"protocol\":");
        o = rl_put_str(o, pt->tls_proto.p, pt->tls_proto.n, 0);
        o = RL_PUT_FIELD(o, "cipher", pt->tls_cipher);
        o = RL_PUT_FIELD(o, "sni", pt->tls_sni);
        *o++ = '}';
    }
    if (pt->h2) {
        if (pt->has_stream) {
            o = RL_PUT_LIT(o, ",\"h2_stream\":");
            o = rl_put_i64(o, pt->h2_stream);
        }
        if (rq && rq->h2_n > 0) {
            o = RL_PUT_LIT(o, ",\"h2_pseudo_order\":[");
            for (int i = 0; i < rq->h2_n; i++) {
                const char *name = rl_h2_pseudo_name(rq->h2_order[i]);
                if (i > 0) *o++ = ',';
                o = rl_put_str(o, name, strlen(name), 0);
            }
            *o++ = ']';
        }
    }
    o = RL_PUT_LIT(o, ",\"header_order\":[");
    if (shape_hit && shape->order_len > 0) {
        /* the same names as the last request's: the same text */
        memcpy(o, shape->order, shape->order_len);
        o += shape->order_len;
    }
    else if (rq != NULL && rq->names != NULL) {
        const char *p = rq->names, *end = rq->names + rq->names_len;
        char *from = o;
        int first = 1;
        while (p < end) {
            apr_uint32_t n;
            memcpy(&n, p, sizeof(n));
            p += sizeof(n);
            if (!first) *o++ = ',';
            first = 0;
            o = rl_put_str(o, p, n, 0);
            p += n;
        }
        if (shape != NULL && shape->valid
            && (apr_size_t)(o - from) <= RL_SHAPE_ORDER_CAP) {
            shape->order_len = (apr_size_t)(o - from);
            memcpy(shape->order, from, shape->order_len);
        }
    }
    else {
        const apr_table_entry_t *e = (const apr_table_entry_t *)pt->harr->elts;
        int first = 1;
        for (int i = 0; i < pt->harr->nelts; i++) {
            if (e[i].key == NULL) continue;
            if (!first) *o++ = ',';
            first = 0;
            o = rl_put_str(o, e[i].key, strlen(e[i].key), 0);
        }
    }
    o = RL_PUT_LIT(o, "],\"headers\":{");
    for (int i = 0; i < h->nsel; i++) {
        if (i > 0) *o++ = ',';
        if (h->sel_json[i] != NULL) {
            /* an exact rule's key: the same letters, in lower case */
            rl_json_copy(o, h->sel_json[i], h->sel[i].len + 3);
            o += h->sel[i].len + 3;
        }
        else {
            o = rl_put_str(o, h->sel[i].name, h->sel[i].len, 1);
            *o++ = ':';
        }
        o = rl_put_str(o, h->sel_val[i] ? h->sel_val[i] : "", h->sel_vlen[i], 0);
    }
    o = RL_PUT_LIT(o, "},\"cookies\":[");
    if (ck->reused) {
        memcpy(o, shape->ck_json, shape->ck_json_len);
        o += shape->ck_json_len;
    }
    else {
        char *from = o;
        for (int i = 0; i < ck->n; i++) {
            if (i > 0) *o++ = ',';
            o = rl_put_str(o, ck->name[i].p, ck->name[i].n, 0);
        }
        if (shape != NULL) rl_cookie_keep(shape, ck, from, o);
    }
    o = RL_PUT_LIT(o, "],\"truncated\":[]}\n");
    return (apr_size_t)(o - buf);
}

void rl_log_record(request_rec *r, const rl_limits *lim, rl_conn *cs,
                   rl_req *rq, rl_transport *t)
{
    rl_parts pt;
    rl_cookie_list ck;
    rl_shape *shape;
    apr_size_t bound = 0, len;
    char *buf;
    int hit = 0, fast;
    rl_append a;

    rl_transport_prefetch(t, &a);
    rl_gather(&pt, r, cs, rq, lim->now);
    shape = rl_shape_for(r, cs, rq, lim->dir);
    if (shape != NULL) {
        hit = rl_shape_apply(&pt.hs, shape, rq, pt.harr);
    }
    if (!hit) {
        rl_scan_headers(&pt.hs, pt.harr, lim->dir);
        if (shape != NULL) rl_shape_keep(shape, &pt.hs, rq, pt.harr);
    }
    if (rq != NULL && rq->sent_host != NULL) {
        pt.host.p = rq->sent_host;        /* absolute-form: as sent */
        pt.host.n = rq->sent_host_len;
    }
    else {
        pt.host = rl_span_of(pt.hs.host ? pt.hs.host : r->hostname);
    }
    fast = rl_fast_fits(&pt, lim, shape, &ck, &bound);
    if (fast) {
        /* Nearly always: written in place at the end of its CPU's
         * message, under that message's lock: everything is looked up
         * already, so the lock covers only the writes (the same slack
         * past the bound as the checked writer's buffer has). */
        char *at = rl_transport_reserve(t, bound + RL_TAIL_RESERVE, &a);
        if (at != NULL) {
            len = rl_write_fast(&pt, &ck, shape, hit, at);
            rl_transport_commit(t, &a, len, lim->now);
            return;
        }
    }
    /* The thread's own buffer (a max_record allocation from r->pool
     * would take a fresh allocator block for every request), then a copy
     * into the message or a message of its own. */
    buf = rl_transport_record_buffer(t, lim->max_record);
    if (buf == NULL) {
        buf = apr_palloc(r->pool, lim->max_record);
    }
    len = fast ? rl_write_fast(&pt, &ck, shape, hit, buf)
               : rl_write_checked(&pt, lim, r->pool, buf);
    (void)rl_transport_send(t, buf, len, lim->now);
}
