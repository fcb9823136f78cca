// FlowRecord -> one JSON object (a line of the batches handed to JS).
// Field names follow FoxIO's reference tool (stream, transport, src, dst,
// src_port, dst_port, tls_server_name, ja4, ...), extended with the raw and
// original forms and capture metadata.
#pragma once

#include <string>

#include "flow_record.h"

namespace ja4 {

// How records become events on the wire (live capture, replay): flow
// records gain "event":"flow", close records are written as
// {"event":"close",...}, both with "sensor" when one is named. The default
// (no tag) is the `ja4 pcap --jsonl` record.
struct RecordJsonOptions {
  bool event_tag = false;
  std::string sensor;
  // `reference`: the record as `ja4 pcap --jsonl` prints it, in FoxIO's
  // reference tool's shape and order (no capture metadata; raw forms only
  // with `raw`, original-order forms instead of sorted with `original`), so
  // the CLI writes the engine's bytes as they are instead of parsing and
  // re-serializing every record (src/cli/pcap-command.ts presentRecord() is
  // the same shape for --json and the table).
  bool reference = false;
  bool raw = false;
  bool original = false;
};

void append_record_json(std::string& out, const FlowRecord& rec, const RecordJsonOptions& opts = {});

}  // namespace ja4
