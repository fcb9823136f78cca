// The metric names the services export, in one place: the Grafana dashboard
// (packaging/grafana/ja4-platform.json) queries exactly these, and
// test/packaging-metrics.test.ts checks it uses no other name. The services
// register theirs through catalogued() (src/metrics/catalogued.ts), which
// takes the type, labels and help from here and refuses any other name;
// test/metrics-services.test.ts scrapes every service for them.

export interface MetricName {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: readonly string[];
  /** which service exports it ('all' = every service) */
  service: 'all' | 'capture' | 'correlator' | 'detector' | 'dashboard';
  help: string;
}

export const METRIC_NAMES: readonly MetricName[] = [
  // every service (registerProcessMetrics)
  { name: 'ja4_build_info', type: 'gauge', labels: ['service', 'version', 'node'], service: 'all', help: 'Always 1; the labels say which service and version.' },
  { name: 'process_cpu_seconds_total', type: 'counter', labels: [], service: 'all', help: 'User and system CPU time spent in seconds.' },
  { name: 'process_resident_memory_bytes', type: 'gauge', labels: [], service: 'all', help: 'Resident memory size in bytes.' },
  { name: 'process_start_time_seconds', type: 'gauge', labels: [], service: 'all', help: 'Start time of the process since unix epoch in seconds.' },
  { name: 'process_open_fds', type: 'gauge', labels: [], service: 'all', help: 'Number of open file descriptors.' },
  { name: 'nodejs_heap_used_bytes', type: 'gauge', labels: [], service: 'all', help: 'V8 heap in use in bytes.' },
  { name: 'nodejs_eventloop_delay_p99_seconds', type: 'gauge', labels: [], service: 'all', help: 'Event-loop delay, 99th percentile since the previous scrape, in seconds.' },
  // capture (ja4 capture; ja4 run --iface)
  { name: 'ja4_capture_packets_total', type: 'counter', labels: ['iface'], service: 'capture', help: 'Packets received by libpcap (pcap_stats ps_recv).' },
  { name: 'ja4_capture_dropped_packets_total', type: 'counter', labels: ['iface', 'where'], service: 'capture', help: 'Packets dropped: where="buffer" (ps_drop) or "interface" (ps_ifdrop).' },
  { name: 'ja4_capture_events_total', type: 'counter', labels: ['event'], service: 'capture', help: 'Events sent: event="flow" or "close".' },
  { name: 'ja4_capture_flows', type: 'gauge', labels: [], service: 'capture', help: 'Flows tracked now.' },
  { name: 'ja4_capture_evictions_total', type: 'counter', labels: ['reason'], service: 'capture', help: 'Flows or buffers dropped by a bound, by engine counter name (flows_evicted_capacity, flows_evicted_idle, *_overflow).' },
  { name: 'ja4_capture_output_dropped_events_total', type: 'counter', labels: [], service: 'capture', help: 'Events ja4 capture could not hand to its output (the correlator socket is missing or full).' },
  // receivers (ja4 run: the http and network sockets)
  { name: 'ja4_receiver_datagrams_total', type: 'counter', labels: ['socket'], service: 'correlator', help: 'Datagrams received: socket="http" or "network".' },
  { name: 'ja4_receiver_bytes_total', type: 'counter', labels: ['socket'], service: 'correlator', help: 'Bytes received.' },
  { name: 'ja4_receiver_dropped_total', type: 'counter', labels: ['socket', 'reason'], service: 'correlator', help: 'Datagrams dropped: reason="oversized" or "error".' },
  // correlator (ja4 run)
  { name: 'ja4_correlator_received_total', type: 'counter', labels: ['kind'], service: 'correlator', help: 'Input records correlated: kind="http" (mod_reqin_log), "flow" (TLS events) or "close".' },
  { name: 'ja4_correlator_requests_total', type: 'counter', labels: ['status'], service: 'correlator', help: 'Requests written, by correlation_status (matched, no_tls, tls_not_seen).' },
  { name: 'ja4_correlator_invalid_lines_total', type: 'counter', labels: ['input', 'reason'], service: 'correlator', help: 'Input lines rejected: input="http" or "tls"; reason="not_json", "schema_invalid", "oversized".' },
  { name: 'ja4_correlator_slow_lines_total', type: 'counter', labels: ['input'], service: 'correlator', help: 'Input lines the native parsers left to the JavaScript reader, accepted or rejected there: input="http" or "tls". Such lines (numbers written 1.0, escapes in addresses, duplicate keys) cost several times the CPU of the native path; mod_reqin_log and ja4 capture write none.' },
  { name: 'ja4_correlator_backlog_dropped_bytes_total', type: 'counter', labels: [], service: 'correlator', help: 'Input bytes dropped because correlation was too far behind.' },
  { name: 'ja4_correlator_steps_total', type: 'counter', labels: [], service: 'correlator', help: 'Correlation steps run, each on all the input queued since the last (at most one per 10 ms unless the backlog grows; idle ticks and failed steps included): under load, requests per step is ja4_correlator_received_total{kind="http"} over this.' },
  { name: 'ja4_correlator_failed_steps_total', type: 'counter', labels: [], service: 'correlator', help: 'Correlation steps that failed (a worker threw or died); their input is dropped and logged.' },
  { name: 'ja4_correlator_connections_forgotten_total', type: 'counter', labels: ['reason'], service: 'correlator', help: 'Connections forgotten: reason="closed", "idle", "window" or "capacity" (max_connections).' },
  { name: 'ja4_correlator_lost_requests_total', type: 'counter', labels: [], service: 'correlator', help: 'Requests that were waiting for the TLS event of their connection when their correlator was replaced (a failed step) or its worker died: never written. The failed step\'s own input is in ja4_correlator_failed_steps_total and the log.' },
  { name: 'ja4_correlator_connections', type: 'gauge', labels: [], service: 'correlator', help: 'Connections held for joining now.' },
  { name: 'ja4_correlator_pending_requests', type: 'gauge', labels: [], service: 'correlator', help: 'Requests waiting for the TLS event of their connection.' },
  { name: 'ja4_correlator_backlog_bytes', type: 'gauge', labels: [], service: 'correlator', help: 'Input received and not correlated yet (the correlator\'s lag).' },
  // writer and spool (ja4 run)
  { name: 'ja4_writer_rows_total', type: 'counter', labels: [], service: 'correlator', help: 'Rows inserted and acknowledged by the database (all tables).' },
  { name: 'ja4_writer_inserts_total', type: 'counter', labels: [], service: 'correlator', help: 'Inserts acknowledged by the database.' },
  { name: 'ja4_writer_insert_seconds_total', type: 'counter', labels: [], service: 'correlator', help: 'Time spent in acknowledged inserts; divided by ja4_writer_inserts_total: the mean insert duration.' },
  { name: 'ja4_writer_last_insert_seconds', type: 'gauge', labels: [], service: 'correlator', help: 'Duration of the last insert.' },
  { name: 'ja4_writer_errors_total', type: 'counter', labels: [], service: 'correlator', help: 'Inserts that failed (the batch goes to the spool).' },
  { name: 'ja4_writer_pending_rows', type: 'gauge', labels: [], service: 'correlator', help: 'Rows handed to the writer and not acknowledged yet (the writer\'s lag).' },
  { name: 'ja4_writer_spooling', type: 'gauge', labels: [], service: 'correlator', help: '1 while the database refuses inserts and batches go to the spool.' },
  { name: 'ja4_spool_bytes', type: 'gauge', labels: [], service: 'correlator', help: 'Bytes waiting in the spool.' },
  { name: 'ja4_spool_batches', type: 'gauge', labels: [], service: 'correlator', help: 'Batches waiting in the spool.' },
  { name: 'ja4_spool_appended_batches_total', type: 'counter', labels: [], service: 'correlator', help: 'Batches written to the spool (spooled).' },
  { name: 'ja4_spool_replayed_batches_total', type: 'counter', labels: [], service: 'correlator', help: 'Spooled batches inserted later.' },
  { name: 'ja4_spool_dropped_batches_total', type: 'counter', labels: [], service: 'correlator', help: 'Batches dropped because the spool was full.' },
  { name: 'ja4_spool_write_errors_total', type: 'counter', labels: [], service: 'correlator', help: 'Spool writes (or reads) the disk refused; the batch is held in memory and retried, and input waits meanwhile.' },
  // detector (ja4 detector run; ja4 run)
  { name: 'ja4_detector_runs_total', type: 'counter', labels: ['result'], service: 'detector', help: 'Scoring passes: result="ok" or "error".' },
  { name: 'ja4_detector_last_run_seconds', type: 'gauge', labels: [], service: 'detector', help: 'Duration of the last scoring pass.' },
  { name: 'ja4_detector_last_run_timestamp_seconds', type: 'gauge', labels: [], service: 'detector', help: 'When the last scoring pass ended (0: none yet).' },
  { name: 'ja4_detector_scored_rows_total', type: 'counter', labels: [], service: 'detector', help: 'Client windows scored.' },
  { name: 'ja4_detector_detections_total', type: 'counter', labels: [], service: 'detector', help: 'Client windows reported as anomalies.' },
  { name: 'ja4_detector_campaigns_total', type: 'counter', labels: [], service: 'detector', help: 'Campaigns (groups of detections) written.' },
  { name: 'ja4_detector_model_info', type: 'gauge', labels: ['version'], service: 'detector', help: 'Always 1; the model version in use.' },
  // dashboard (ja4 dashboard; ja4 run)
  { name: 'ja4_dashboard_http_requests_total', type: 'counter', labels: ['route', 'code'], service: 'dashboard', help: 'API and page requests, by route pattern ("static" for the web bundle) and status code.' },
  { name: 'ja4_dashboard_http_request_seconds', type: 'histogram', labels: ['route'], service: 'dashboard', help: 'Request duration.' },
  { name: 'ja4_dashboard_ws_clients', type: 'gauge', labels: [], service: 'dashboard', help: 'WebSocket clients connected now.' },
  { name: 'ja4_dashboard_ws_messages_total', type: 'counter', labels: [], service: 'dashboard', help: 'WebSocket messages published.' },
  { name: 'ja4_dashboard_ws_dropped_clients_total', type: 'counter', labels: [], service: 'dashboard', help: 'Slow WebSocket clients disconnected (backpressure).' },
  { name: 'ja4_dashboard_logins_total', type: 'counter', labels: ['result'], service: 'dashboard', help: 'Logins: result="ok", "failed", "rate_limited".' },
];
