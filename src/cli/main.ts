// The `ja4` command line: dispatches to one module per command.
import { ConfigError } from '../config/errors.js';
import { CliError } from './cli-error.js';
import { processIO, type CliIO } from './output.js';
import { runPcapCommand } from './pcap-command.js';

export const MAIN_HELP = `Usage: ja4 <command> [options]

Commands:
  pcap FILE...     fingerprint pcap/pcapng captures (JA4, JA4S, JA3, JA4T, JA4L, JA4H, JA4X, JA4SSH)
  demo             fingerprint the bundled sample captures and print the table
  capture          live capture (--iface IF): TLS events to the correlator socket, a jsonl file or stdout
  replay FILE...   replay captures through the engine with their timing, events as live capture
  run              the live pipeline: receivers, capture or simulator, correlator, writer
  simulate         simulated browsers and bots: TLS events, mod_reqin_log records, labels (and a pcap)
  db               database schema: migrate, status, import an http_logs export
  data load [DIR]  validate and load the reference CSV files (ASNs, bot lists, JA4 mapping)
  detector         bot detector: train, run (score windows), eval, drift, status
  config           check /etc/ja4/config.yaml, show the values in effect, print the template
  dashboard        the SOC dashboard server (API, live WebSocket feed, web pages) on :8000
  user             dashboard users and wall tokens: add, list, passwd, role, remove, token

Run "ja4 <command> --help" for a command's options.
`;

type Command = (argv: string[], io: CliIO) => Promise<number>;

const commands: Record<string, Command> = {
  pcap: runPcapCommand,
  demo: async (argv, io) => (await import('./demo-command.js')).runDemoCommand(argv, io),
  capture: async (argv, io) => (await import('./capture-command.js')).runCaptureCommand(argv, io),
  replay: async (argv, io) => (await import('./replay-command.js')).runReplayCommand(argv, io),
  run: async (argv, io) => (await import('./run-command.js')).runRunCommand(argv, io),
  simulate: async (argv, io) => (await import('./simulate-command.js')).runSimulateCommand(argv, io),
  db: async (argv, io) => (await import('./db-command.js')).runDbCommand(argv, io),
  data: async (argv, io) => (await import('./data-command.js')).runDataCommand(argv, io),
  detector: async (argv, io) => (await import('./detector-command.js')).runDetectorCommand(argv, io),
  config: async (argv, io) => (await import('./config-command.js')).runConfigCommand(argv, io),
  dashboard: async (argv, io) => (await import('./dashboard-command.js')).runDashboardCommand(argv, io),
  user: async (argv, io) => (await import('./user-command.js')).runUserCommand(argv, io),
};

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`ja4: unknown command "${name}"\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`${err.message}\n`);
      return err.exitCode;
    }
    // /etc/ja4/config.yaml, JA4_* or --set: every problem, each naming its option
    if (err instanceof ConfigError) {
      io.err(`ja4 ${name}: configuration:\n${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
