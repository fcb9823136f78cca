// `ja4 capture --iface IF`: live capture into the engine, events to the
// correlator's socket (or a jsonl file, or stdout); counters on stderr on a
// timer and at exit; SIGINT/SIGTERM flush the engine and exit 0.
import { OptionError } from '../capture/engine-options.js';
import { CaptureStartError, type CaptureSession, type CaptureStats } from '../capture/capture-session.js';
import { openLiveCapture } from '../capture/live-capture.js';
import { defaultOutputSpec, openEventOutput, parseOutputSpec, unixOutputSpec, type EventOutput, type OutputSpec } from '../capture/event-output.js';
import { CAPTURE_FLAG_OPTIONS, CONFIG_ARG_HELP, CONFIG_ARG_SPEC, DEFAULT_BPF } from '../config/index.js';
import { loadCommandConfig } from '../config/command-config.js';
import { registerCaptureMetrics } from '../metrics/capture-metrics.js';
import { parseMetricsListen, serveMetrics, serviceRegistry } from '../metrics/serve.js';
import { CliError } from './cli-error.js';
import { parseCommandArgs, usageHint } from './parse-command-args.js';
import type { CliIO } from './output.js';
import { LOG_ARG_HELP, LOG_ARG_SPEC, serviceLogger } from './service-logger.js';

export const CAPTURE_HELP = `Usage: ja4 capture --iface IF [options]

Captures live traffic (libpcap, on a native thread) through the same engine as
"ja4 pcap" and sends one event per TLS/QUIC/HTTP/SSH connection once its client
handshake is seen, and a close event when a reported TCP connection ends
(schema/tls-event.schema.json).

  --iface IF             interface to capture on (lo, eth0, any...) (required)
  --bpf EXPR             capture filter, tcpdump syntax (e.g. "tcp port 443")
  --snaplen N            bytes kept per packet (default 65535)
  --buffer-mb N          kernel capture buffer in MiB (default 64)
  --promisc              promiscuous mode
  --output SPEC          unix:PATH (datagrams), unix+seqpacket:PATH, jsonl:FILE or stdout
                         (default unix:<sockets.network_path of the configuration>,
                         else env JA4_NETWORK_SOCKET, else unix:/run/ja4/network.socket)
  --stats-interval S     engine and pcap counters on stderr every S seconds (default 10; 0: only at exit)
  --sensor NAME          sensor name added to every event
  --max-flows N          flows tracked at once (default 262144)
  --idle-timeout-ms N    a flow idle this long is reported and dropped (default 120000)
  --metrics-listen H:P   serve /metrics there (default: metrics.host and metrics.port.capture
                         of the configuration, 127.0.0.1:9471)
  -h, --help             show this help

The options above are also read from /etc/ja4/config.yaml (capture.*) and
JA4_CAPTURE_* variables; a flag given here wins.

${LOG_ARG_HELP}
${CONFIG_ARG_HELP}
Needs CAP_NET_RAW (root, or setcap cap_net_raw,cap_net_admin+eip on node).
Exit status: 0 after SIGINT/SIGTERM (events flushed), 1 when the capture
cannot start (no such interface, no privilege), 2 on bad options.
`;

export function intFlag(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new CliError(`--${name} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer, got "${value}"`);
  }
  return Number(value);
}

/** The counters an operator watches (drops first), as the fields of one log line. */
export function captureStatsFields(st: CaptureStats, out: EventOutput): Record<string, number | string> {
  const e = st.engine;
  const o = out.stats();
  return {
    packets: e.packets ?? 0,
    kernel_received: st.pcap.ps_recv,
    kernel_dropped: st.pcap.ps_drop,
    interface_dropped: st.pcap.ps_ifdrop,
    flows: e.flows_created ?? 0,
    active_flows: e.active_flows ?? 0,
    flows_evicted_capacity: e.flows_evicted_capacity ?? 0,
    flows_evicted_idle: e.flows_evicted_idle ?? 0,
    flow_events: e.records_emitted ?? 0,
    close_events: e.close_records ?? 0,
    output: out.description,
    written: o.written,
    output_dropped: o.droppedEvents,
    output_pending: o.pending ?? 0,
  };
}

/** What was lost since the previous counters, per reason (non-zero only), or undefined. */
export function captureDropFields(prev: Record<string, number | string>, cur: Record<string, number | string>): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const k of ['kernel_dropped', 'interface_dropped', 'flows_evicted_capacity', 'output_dropped']) {
    const n = Number(cur[k] ?? 0) - Number(prev[k] ?? 0);
    if (n > 0) out[k] = n;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Resolves with the signal on SIGINT or SIGTERM, or with 'end' when `end`
 * settles first; the handlers are removed either way.
 */
export function untilSignalOr(end: Promise<unknown>): Promise<NodeJS.Signals | 'end'> {
  return new Promise((resolve) => {
    const done = (what: NodeJS.Signals | 'end') => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(what);
    };
    const on = (sig: NodeJS.Signals) => done(sig);
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    end.then(
      () => done('end'),
      () => done('end'),
    );
  });
}

export function startError(err: unknown): never {
  if (err instanceof OptionError) throw new CliError(err.message);
  if (err instanceof CaptureStartError) throw new CliError(`ja4 capture: ${err.message}`, 1);
  throw err;
}

/** --output (the default when absent) as an output spec; a bad one is a usage error. */
export function parseOutputFlag(flag: string | undefined): OutputSpec {
  try {
    return parseOutputSpec(flag ?? defaultOutputSpec());
  } catch (err) {
    return startError(err);
  }
}

/** Opens the events output; one that cannot be opened ends the command with exit code 1. */
export function openCommandOutput(command: string, flag: string | undefined, spec: OutputSpec, io: CliIO): EventOutput {
  try {
    return openEventOutput(spec, io.out);
  } catch (err) {
    throw new CliError(`ja4 ${command}: cannot open the output ${flag}: ${(err as Error).message}`, 1);
  }
}

export async function runCaptureCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('capture', {
    args: argv,
    strict: true,
    options: {
      iface: { type: 'string', short: 'i' },
      bpf: { type: 'string' },
      snaplen: { type: 'string' },
      'buffer-mb': { type: 'string' },
      promisc: { type: 'boolean' },
      output: { type: 'string' },
      'stats-interval': { type: 'string' },
      sensor: { type: 'string' },
      'max-flows': { type: 'string' },
      'idle-timeout-ms': { type: 'string' },
      'metrics-listen': { type: 'string' },
      ...CONFIG_ARG_SPEC,
      ...LOG_ARG_SPEC,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (parsed.values.help) {
    io.out(CAPTURE_HELP);
    return 0;
  }
  const cfg = loadCommandConfig(parsed.values, CAPTURE_FLAG_OPTIONS);
  const v = cfg.values as typeof parsed.values;
  // the socket ja4 run listens on, of the type it binds (sockets.network_type)
  if (v.output === undefined && (cfg.isSet('sockets.network_path') || cfg.isSet('sockets.network_type'))) {
    v.output = unixOutputSpec(cfg.config.sockets.network_path, cfg.config.sockets.network_type);
  }
  if (v['metrics-listen'] !== undefined) {
    try {
      parseMetricsListen(v['metrics-listen']);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  if (!v.iface) throw new CliError(`ja4 capture: --iface is required (or capture.iface in the configuration)\n${usageHint('capture')}`);
  const log = serviceLogger('ja4-capture', v, io).child({ iface: v.iface });
  const statsInterval = intFlag('stats-interval', v['stats-interval']) ?? 10;
  const spec = parseOutputFlag(v.output);
  const options = {
    iface: v.iface,
    // capture.bpf's default, as ja4 run takes it: without a filter every
    // packet of the interface would go through the engine
    bpf: v.bpf ?? DEFAULT_BPF,
    snaplen: intFlag('snaplen', v.snaplen, 1),
    bufferMb: intFlag('buffer-mb', v['buffer-mb'], 1),
    promisc: v.promisc,
    sensor: v.sensor,
    maxFlows: intFlag('max-flows', v['max-flows'], 1),
    idleTimeoutMs: intFlag('idle-timeout-ms', v['idle-timeout-ms'], 1),
  };
  // Drop unset keys so validation reports only what was typed.
  const opts = Object.fromEntries(Object.entries(options).filter(([, x]) => x !== undefined)) as typeof options;

  const output = openCommandOutput('capture', v.output, spec, io);
  let session: CaptureSession;
  try {
    session = openLiveCapture(opts, (b) => output.write(b));
  } catch (err) {
    await output.close(0);
    return startError(err);
  }
  const registry = serviceRegistry('ja4-capture');
  registerCaptureMetrics(registry, v.iface, () => {
    const st = session.stats();
    return { pcap: st.pcap, engine: st.engine, outputDropped: output.stats().droppedEvents };
  });
  let metrics;
  try {
    metrics = await serveMetrics({ service: 'capture', registry, metrics: cfg.config.metrics, isSet: cfg.isSet, listen: v['metrics-listen'], log });
  } catch (err) {
    await session.close();
    await output.close(0);
    throw new CliError(`ja4 capture ${v.iface}: ${(err as Error).message}`, 1);
  }
  log.info('capturing', { bpf: opts.bpf, output: output.description, ...(metrics ? { metrics_port: metrics.port } : {}) });
  let prev = captureStatsFields(session.stats(), output);
  const timer =
    statsInterval > 0
      ? setInterval(() => {
          const cur = captureStatsFields(session.stats(), output);
          log.info('counters', cur);
          const dropped = captureDropFields(prev, cur);
          if (dropped) log.warn('packets or events dropped', dropped);
          prev = cur;
        }, statsInterval * 1000)
      : undefined;
  const sig = await untilSignalOr(session.finished);
  if (timer) clearInterval(timer);
  await session.close();
  await output.close();
  await metrics?.close();
  const st = session.stats();
  const fields = { ...captureStatsFields(st, output), engine: Object.fromEntries(Object.entries(st.engine).filter(([, x]) => x !== 0)) };
  if (sig === 'end') log.error('the capture ended', { ...(st.error ? { error: st.error.message } : {}), ...fields });
  else log.info('stopped: flushed', { signal: sig, ...fields });
  return sig === 'end' ? 1 : 0;
}
