// FlowRecord -> one JSON object (a line of the batches handed to JS).
// Field names follow FoxIO's reference tool (stream, transport, src, dst,
// src_port, dst_port, tls_server_name, ja4, ...), extended with the raw and
// original forms and capture metadata.
#pragma once

#include <string>

#include "flow_record.h"

namespace ja4 {

void append_record_json(std::string& out, const FlowRecord& rec);

}  // namespace ja4
