// The metric names the services export, in one place: the Grafana dashboard
// (packaging/grafana/ja4-platform.json) queries exactly these, and
// test/packaging-metrics.test.ts checks it uses no other name. A service
// registers its own with these names (labels as listed).

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
  // capture
  { name: 'ja4_capture_packets_total', type: 'counter', labels: ['iface'], service: 'capture', help: 'Packets received by libpcap (pcap_stats ps_recv).' },
  { name: 'ja4_capture_dropped_packets_total', type: 'counter', labels: ['iface', 'where'], service: 'capture', help: 'Packets dropped: where="buffer" (ps_drop) or "interface" (ps_ifdrop).' },
  { name: 'ja4_capture_events_total', type: 'counter', labels: ['event'], service: 'capture', help: 'Events sent: event="flow" or "close".' },
  { name: 'ja4_capture_flows', type: 'gauge', labels: [], service: 'capture', help: 'Flows tracked now.' },
  { name: 'ja4_capture_evictions_total', type: 'counter', labels: ['reason'], service: 'capture', help: 'Flows or buffers dropped by a bound, by engine counter name.' },
  // receivers (correlator, ja4 run)
  { name: 'ja4_receiver_datagrams_total', type: 'counter', labels: ['socket'], service: 'correlator', help: 'Datagrams received: socket="http" or "network".' },
  { name: 'ja4_receiver_bytes_total', type: 'counter', labels: ['socket'], service: 'correlator', help: 'Bytes received.' },
  { name: 'ja4_receiver_dropped_total', type: 'counter', labels: ['socket', 'reason'], service: 'correlator', help: 'Datagrams dropped: reason="oversized" or "error".' },
  // correlator and writer
  { name: 'ja4_correlator_requests_total', type: 'counter', labels: ['status'], service: 'correlator', help: 'Requests written, by correlation_status (matched, no_tls, tls_not_seen, ...).' },
  { name: 'ja4_correlator_invalid_lines_total', type: 'counter', labels: ['reason'], service: 'correlator', help: 'Input lines rejected: reason="not_json", "schema", "oversized".' },
  { name: 'ja4_correlator_connections', type: 'gauge', labels: [], service: 'correlator', help: 'Connections held for joining now.' },
  { name: 'ja4_correlator_delay_seconds', type: 'histogram', labels: [], service: 'correlator', help: 'From a request being logged to its row being written.' },
  { name: 'ja4_writer_rows_total', type: 'counter', labels: ['table'], service: 'correlator', help: 'Rows inserted, by table.' },
  { name: 'ja4_writer_insert_seconds', type: 'histogram', labels: ['table'], service: 'correlator', help: 'Duration of one insert.' },
  { name: 'ja4_writer_errors_total', type: 'counter', labels: [], service: 'correlator', help: 'Inserts that failed (the batch stays in the spool).' },
  { name: 'ja4_spool_bytes', type: 'gauge', labels: [], service: 'correlator', help: 'Bytes waiting in the spool.' },
  { name: 'ja4_spool_dropped_batches_total', type: 'counter', labels: [], service: 'correlator', help: 'Batches dropped because the spool was full.' },
  // detector
  { name: 'ja4_detector_runs_total', type: 'counter', labels: ['result'], service: 'detector', help: 'Scoring runs: result="ok" or "error".' },
  { name: 'ja4_detector_run_seconds', type: 'histogram', labels: [], service: 'detector', help: 'Duration of a scoring run.' },
  { name: 'ja4_detector_scored_clients_total', type: 'counter', labels: [], service: 'detector', help: 'Clients scored.' },
  { name: 'ja4_detector_anomalies_total', type: 'counter', labels: [], service: 'detector', help: 'Clients reported as anomalies.' },
  { name: 'ja4_detector_model_info', type: 'gauge', labels: ['version'], service: 'detector', help: 'Always 1; the model version in use.' },
  // dashboard
  { name: 'ja4_dashboard_http_requests_total', type: 'counter', labels: ['route', 'code'], service: 'dashboard', help: 'API and page requests, by route and status code.' },
  { name: 'ja4_dashboard_http_request_seconds', type: 'histogram', labels: ['route'], service: 'dashboard', help: 'Request duration.' },
  { name: 'ja4_dashboard_ws_clients', type: 'gauge', labels: [], service: 'dashboard', help: 'WebSocket clients connected now.' },
  { name: 'ja4_dashboard_ws_messages_total', type: 'counter', labels: [], service: 'dashboard', help: 'WebSocket messages sent.' },
  { name: 'ja4_dashboard_ws_dropped_clients_total', type: 'counter', labels: [], service: 'dashboard', help: 'Slow WebSocket clients disconnected (backpressure).' },
  { name: 'ja4_dashboard_logins_total', type: 'counter', labels: ['result'], service: 'dashboard', help: 'Logins: result="ok", "failed", "rate_limited".' },
];
