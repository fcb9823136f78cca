#include "record_json.h"

#include "json_writer.h"

namespace ja4 {

namespace {

const char* close_reason_name(CloseReason r) {
  switch (r) {
    case CloseReason::Fin: return "fin";
    case CloseReason::Rst: return "rst";
    case CloseReason::Idle: return "idle";
    case CloseReason::Evicted: return "evicted";
  }
  return "evicted";
}

// The flow's identity and time span, shared by close events and flow records (same keys, same order).
JsonObject& append_flow_identity(JsonObject& o, const FlowRecord& r) {
  return o.num("stream", static_cast<int64_t>(r.stream))
      .str("transport", r.transport == 't' ? "tcp" : "udp")
      .str("src", r.src)
      .str("dst", r.dst)
      .num("src_port", r.src_port)
      .num("dst_port", r.dst_port)
      .num("first_ts_us", r.first_ts_us)
      .num("last_ts_us", r.last_ts_us);
}

// src/capture/tls-event.ts (CloseEvent), schema/tls-event.schema.json.
void append_close_json(std::string& out, const FlowRecord& r, const RecordJsonOptions& opts) {
  JsonObject o(out);
  o.str("event", "close");
  if (!opts.sensor.empty()) o.str("sensor", opts.sensor);
  append_flow_identity(o, r).str("reason", close_reason_name(r.close_reason));
  o.close();
}

// JA4H per request. A full record carries every form and the HTTP
// version; the reference shape one form (sorted, or original order) and its
// raw form with `raw`.
void append_http_json(JsonObject& o, const FlowRecord& r, const RecordJsonOptions& opts) {
  if (r.http.empty()) return;
  std::string& a = o.raw("http");
  a.push_back('[');
  for (size_t i = 0; i < r.http.size(); ++i) {
    if (i) a.push_back(',');
    const HttpRecord& h = r.http[i];
    JsonObject ho(a);
    if (!opts.reference) {
      ho.str("ja4h", h.fp.ja4h).str("ja4h_r", h.fp.ja4h_r).str("ja4h_o", h.fp.ja4h_o).str("ja4h_ro", h.fp.ja4h_ro);
    } else if (opts.original) {
      ho.str("ja4h_o", h.fp.ja4h_o);
      if (opts.raw) ho.str("ja4h_ro", h.fp.ja4h_ro);
    } else {
      ho.str("ja4h", h.fp.ja4h);
      if (opts.raw) ho.str("ja4h_r", h.fp.ja4h_r);
    }
    ho.str("method", h.method).str("path", h.target);
    if (!opts.reference) ho.str("version", h.version);
    ho.opt("host", h.host).opt("user_agent", h.user_agent);
    ho.close();
  }
  a.push_back(']');
}

// One Certificate message per connection: [{x509: [cert, ...]}], as the
// reference nests it. The raw form comes second in a full record, last (and
// only with `raw`) in the reference shape.
void append_certs_json(JsonObject& o, const FlowRecord& r, const RecordJsonOptions& opts) {
  if (r.certs.empty()) return;
  std::string& a = o.raw("tls_certs");
  a += "[{\"x509\":[";
  for (size_t i = 0; i < r.certs.size(); ++i) {
    if (i) a.push_back(',');
    JsonObject co(a);
    co.str("ja4x", r.certs[i].ja4x);
    if (!opts.reference) co.str("ja4x_r", r.certs[i].ja4x_r);
    for (const auto& [k, v] : r.certs[i].fields) co.str(k.c_str(), v);
    if (opts.reference && opts.raw) co.str("ja4x_r", r.certs[i].ja4x_r);
    co.close();
  }
  a += "]}]";
}

// JA4SSH and HASSH, the same in both shapes.
void append_ssh_json(JsonObject& o, const FlowRecord& r) {
  if (!r.ssh.ja4ssh.empty()) {
    std::string& a = o.raw("ja4ssh");
    a.push_back('[');
    for (size_t i = 0; i < r.ssh.ja4ssh.size(); ++i) {
      if (i) a.push_back(',');
      json_append_string(a, r.ssh.ja4ssh[i]);
    }
    a.push_back(']');
  }
  if (r.ssh.has_extras) {
    std::string& a = o.raw("ssh_extras");
    JsonObject so(a);
    so.str("hassh", r.ssh.hassh).str("hassh_server", r.ssh.hassh_server)
        .str("ssh_protocol_client", r.ssh.protocol_client)
        .str("ssh_protocol_server", r.ssh.protocol_server)
        .str("encryption_algorithm", r.ssh.encryption_algorithm);
    so.close();
  }
}

// The `ja4 pcap --jsonl` shape (see RecordJsonOptions::reference).
void append_reference_json(std::string& out, const FlowRecord& r, const RecordJsonOptions& opts) {
  JsonObject o(out);
  o.num("stream", static_cast<int64_t>(r.stream))
      .str("transport", r.transport == 't' ? "tcp" : "udp")
      .str("src", r.src)
      .str("dst", r.dst)
      .num("src_port", r.src_port)
      .num("dst_port", r.dst_port);
  if (r.has_sni) o.str("tls_server_name", r.sni);
  if (r.has_client_hello) {
    if (opts.original) {
      o.str("ja4_o", r.ja4.ja4_o);
      if (opts.raw) o.str("ja4_ro", r.ja4.ja4_ro);
    } else {
      o.str("ja4", r.ja4.ja4);
      if (opts.raw) o.str("ja4_r", r.ja4.ja4_r);
    }
  }
  if (r.has_server_hello) {
    o.str("ja4s", r.ja4s.ja4s);
    if (opts.raw) o.str("ja4s_r", r.ja4s.ja4s_r);
  }
  if (r.has_client_hello) {
    o.str("ja3", r.ja3.hash);
    if (opts.raw) o.str("ja3_r", r.ja3.full);
  }
  if (r.has_server_hello) {
    o.str("ja3s", r.ja3s.hash);
    if (opts.raw) o.str("ja3s_r", r.ja3s.full);
  }
  o.opt("ja4t", r.ja4t).opt("ja4ts", r.ja4ts).opt("ja4l_c", r.ja4l_c).opt("ja4l_s", r.ja4l_s);
  append_http_json(o, r, opts);
  append_certs_json(o, r, opts);
  append_ssh_json(o, r);
  o.close();
}

}  // namespace

void append_record_json(std::string& out, const FlowRecord& r, const RecordJsonOptions& opts) {
  if (r.kind == RecordKind::Close) {
    append_close_json(out, r, opts);
    return;
  }
  if (opts.reference) {
    append_reference_json(out, r, opts);
    return;
  }
  JsonObject o(out);
  if (opts.event_tag) o.str("event", "flow");
  if (!opts.sensor.empty()) o.str("sensor", opts.sensor);
  append_flow_identity(o, r).num("packets", static_cast<int64_t>(r.packets)).boolean("closed", r.closed);
  if (r.has_sni) o.str("tls_server_name", r.sni);
  if (r.has_client_hello) {
    o.str("ja4", r.ja4.ja4).str("ja4_r", r.ja4.ja4_r).str("ja4_o", r.ja4.ja4_o).str("ja4_ro", r.ja4.ja4_ro);
    o.str("ja3", r.ja3.hash).str("ja3_r", r.ja3.full);
    o.str("tls_version", r.tls_version).opt("alpn", r.alpn);
  }
  if (r.has_server_hello) {
    o.str("ja4s", r.ja4s.ja4s).str("ja4s_r", r.ja4s.ja4s_r);
    o.str("ja3s", r.ja3s.hash).str("ja3s_r", r.ja3s.full);
  }
  o.opt("ja4t", r.ja4t).opt("ja4ts", r.ja4ts).opt("ja4l_c", r.ja4l_c).opt("ja4l_s", r.ja4l_s);
  if (r.client_ttl) o.num("client_ttl", r.client_ttl);
  append_http_json(o, r, opts);
  append_certs_json(o, r, opts);
  append_ssh_json(o, r);
  o.close();
}

}  // namespace ja4
