// The metrics every service exports about its process, collected at scrape
// time: CPU, memory, open files, start time, event-loop delay, and build info.
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricsRegistry } from './registry.js';

export interface ProcessMetricsOptions {
  /** e.g. "ja4-correlator" */
  service: string;
  /** package version */
  version: string;
}

/** Registers the process_* and nodejs_* metrics; returns a stop function for the delay monitor. */
export function registerProcessMetrics(registry: MetricsRegistry, opts: ProcessMetricsOptions): () => void {
  const startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  registry.gauge({ name: 'ja4_build_info', help: 'Always 1; the labels say which service and version.', labelNames: ['service', 'version', 'node'], collect: () => [[{ service: opts.service, version: opts.version, node: process.version }, 1]] });
  registry.counter({ name: 'process_cpu_seconds_total', help: 'User and system CPU time spent in seconds.', collect: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  } });
  registry.gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', collect: () => process.memoryUsage.rss() });
  registry.gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', collect: () => startSeconds });
  registry.gauge({ name: 'process_open_fds', help: 'Number of open file descriptors.', collect: () => {
    try {
      return readdirSync('/proc/self/fd').length;
    } catch {
      return NaN;
    }
  } });
  registry.gauge({ name: 'nodejs_heap_used_bytes', help: 'V8 heap in use in bytes.', collect: () => process.memoryUsage().heapUsed });
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  registry.gauge({ name: 'nodejs_eventloop_delay_p99_seconds', help: 'Event-loop delay, 99th percentile since the previous scrape, in seconds.', collect: () => {
    const v = delay.count > 0 ? delay.percentile(99) / 1e9 : 0;
    delay.reset();
    return v;
  } });
  return () => delay.disable();
}
