// `ja4 replay FILE...`: feeds captures through the engine with their timing
// preserved (--speed 1x), scaled (--speed 10x), paced by packet rate (--pps)
// or as fast as possible (--max), emitting the same events as live capture,
// with progress and the achieved rate on stderr: JSON log lines (a bar
// redrawn in place when stderr is a terminal).
import { statSync } from 'node:fs';
import { openReplay } from '../capture/replay.js';
import type { CaptureSession } from '../capture/capture-session.js';
import { CliError } from './cli-error.js';
import { parseCommandArgs, usageHint } from './parse-command-args.js';
import { intFlag, openCommandOutput, parseOutputFlag, startError, untilSignalOr } from './capture-command.js';
import { processIO, type CliIO } from './output.js';
import { LOG_ARG_HELP, LOG_ARG_SPEC, serviceLogger } from './service-logger.js';

export const REPLAY_HELP = `Usage: ja4 replay FILE... [options]

Replays pcap/pcapng captures through the engine, as live capture would see
them, and sends the same events (flow and close) to the output. Event
timestamps start now and keep the recorded intervals.

Pacing (one of):
  --speed Nx        recorded timing, N times faster (default 1x; 0.5x is slower)
  --pps N           N packets per second
  --max             as fast as possible
  --loop N          replay the files N times (default 1)

  --output SPEC     unix:PATH (datagrams), unix+seqpacket:PATH, jsonl:FILE or stdout
                    (default unix:/run/ja4/network.socket, env JA4_NETWORK_SOCKET)
  --sensor NAME     sensor name added to every event
  --progress-interval S   progress line every S seconds (default 1; 0: only at the end)
  --max-flows N, --idle-timeout-ms N   engine limits, as for "ja4 pcap"
  -h, --help        show this help

${LOG_ARG_HELP.replace(/ \(logging\.\w+\)/g, '')}
Exit status: 0 when done or interrupted (SIGINT/SIGTERM flush), 2 for a bad
option or a file that is missing or not a capture.
`;

function parseSpeed(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(s);
  const n = m ? Number(m[1]) : NaN;
  if (!(n > 0) || n > 1e6) throw new CliError(`--speed must be a positive factor such as 1x, 10x or 0.5x, got "${s}"`);
  return n;
}

function rate(n: number, seconds: number): string {
  const r = seconds > 0 ? n / seconds : 0;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
}

export async function runReplayCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('replay', {
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      speed: { type: 'string' },
      pps: { type: 'string' },
      max: { type: 'boolean' },
      loop: { type: 'string' },
      output: { type: 'string' },
      sensor: { type: 'string' },
      'progress-interval': { type: 'string' },
      'max-flows': { type: 'string' },
      'idle-timeout-ms': { type: 'string' },
      ...LOG_ARG_SPEC,
      help: { type: 'boolean', short: 'h' },
    },
  });
  const v = parsed.values;
  if (v.help) {
    io.out(REPLAY_HELP);
    return 0;
  }
  if (parsed.positionals.length === 0) throw new CliError(`ja4 replay: no capture file given\n${usageHint('replay')}`);
  const pacing = [v.speed !== undefined, v.pps !== undefined, v.max === true].filter(Boolean).length;
  if (pacing > 1) throw new CliError('--speed, --pps and --max cannot be combined; give one');
  const progressInterval = intFlag('progress-interval', v['progress-interval']) ?? 1;
  const log = serviceLogger('ja4-replay', v, io);
  const options = {
    files: parsed.positionals,
    speed: parseSpeed(v.speed),
    pps: intFlag('pps', v.pps, 1),
    max: v.max,
    loops: intFlag('loop', v.loop, 1),
    sensor: v.sensor,
    maxFlows: intFlag('max-flows', v['max-flows'], 1),
    idleTimeoutMs: intFlag('idle-timeout-ms', v['idle-timeout-ms'], 1),
  };
  const opts = Object.fromEntries(Object.entries(options).filter(([, x]) => x !== undefined)) as typeof options;
  const spec = parseOutputFlag(v.output);
  const output = openCommandOutput('replay', v.output, spec, io);
  let session: CaptureSession;
  try {
    session = openReplay(opts, (b) => output.write(b));
  } catch (err) {
    await output.close(0);
    const e = err as { code?: string; message?: string };
    if (e.code && e.code !== 'EOPTION') throw new CliError(`ja4 replay: ${e.message}`);
    return startError(err);
  }
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  // Progress by bytes read: the file sizes are known, packet counts are not.
  const sizes = opts.files.map((f) => statSync(f).size);
  const total = sizes.reduce((a, b) => a + b, 0) || 1;
  const loops = opts.loops ?? 1;
  const progressFields = () => {
    const st = session.stats();
    const s = seconds();
    const done = st.loop * total + sizes.slice(0, st.fileIndex).reduce((a, b) => a + b, 0) + st.fileOffset;
    const fraction = Math.min(1, done / (total * loops));
    return { percent: Math.round(fraction * 100), packets: st.replayPackets, events: st.events, loop: st.loop + 1, loops, file: st.fileIndex + 1, files: opts.files.length, seconds: Math.round(s * 10) / 10, packets_per_s: Math.round(s > 0 ? st.replayPackets / s : 0) };
  };
  const progress = () => {
    const st = session.stats();
    const s = seconds();
    const done = st.loop * total + sizes.slice(0, st.fileIndex).reduce((a, b) => a + b, 0) + st.fileOffset;
    const fraction = Math.min(1, done / (total * loops));
    const width = 24;
    const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
    return (
      `ja4 replay [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%: ${st.replayPackets} packets, ${st.events} events` +
      `${loops > 1 ? `, loop ${st.loop + 1}/${loops}` : ''}, file ${st.fileIndex + 1}/${opts.files.length}` +
      ` in ${s.toFixed(1)} s (${rate(st.replayPackets, s)} packets/s)`
    );
  };
  // On a terminal (someone watching) the bar redraws in place; elsewhere
  // (the journal, a pipe) one progress log line each time.
  const tty = io === processIO && process.stderr.isTTY === true;
  const timer =
    progressInterval > 0
      ? setInterval(() => (tty ? io.err(`\r${progress()}\x1b[K`) : log.info('progress', progressFields())), progressInterval * 1000)
      : undefined;
  const how = await untilSignalOr(session.finished);
  if (timer) clearInterval(timer);
  if (tty) io.err('\n');
  await session.close();
  await output.close();
  const st = session.stats();
  const s = seconds();
  const totals = {
    packets: st.replayPackets,
    bytes: st.replayBytes,
    seconds: Math.round(s * 100) / 100,
    packets_per_s: Math.round(s > 0 ? st.replayPackets / s : 0),
    flow_events: st.engine.records_emitted ?? 0,
    close_events: st.engine.close_records ?? 0,
    output: output.description,
    written: output.stats().written,
    output_dropped: output.stats().droppedEvents,
    engine: Object.fromEntries(Object.entries(st.engine).filter(([, x]) => x !== 0)),
  };
  if (how === 'end') log.info('done', totals);
  else log.info('stopped: flushed', { signal: how, ...totals });
  if (output.stats().droppedEvents > 0) log.warn('events dropped by the output', { output: output.description, output_dropped: output.stats().droppedEvents });
  if (st.error) throw new CliError(`ja4 replay: ${st.error.message}`);
  return 0;
}
