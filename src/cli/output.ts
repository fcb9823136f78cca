// Output streams for CLI commands, injectable so tests can capture them.
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Bytes that are already UTF-8 text (e.g. the engine's JSON lines), written without decoding; `out` is used where absent. */
  outBytes?(bytes: Uint8Array): void;
}

export const processIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  outBytes: (b) => void process.stdout.write(b),
};
