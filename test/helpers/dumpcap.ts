// dumpcap recording loopback traffic of TCP ports to a pcap, the
// reference the live-capture tests compare against: resolves once dumpcap
// reports "Capturing on", so no packet of the test's traffic is missed.
import { spawn, type ChildProcess } from 'node:child_process';

export async function startDumpcap(file: string, port: number | number[]): Promise<ChildProcess> {
  const filter = (Array.isArray(port) ? port : [port]).map((p) => `tcp port ${p}`).join(' or ');
  const d = spawn('dumpcap', ['-i', 'lo', '-f', filter, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dumpcap did not start: ${err}`)), 10_000);
    d.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('Capturing on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    d.on('exit', () => reject(new Error(`dumpcap exited: ${err}`)));
  });
  return d;
}
