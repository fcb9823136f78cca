// mod_reqin_log's per-thread buffers when threads come and go. Records the
// module cannot write in place into its child's message (no batching,
// ReqinLogFlushInterval 0 as here, or the checked writer) are built in a
// per-thread record buffer from its child's transport; mod_http2 stops idle
// workers above H2MinWorkers after H2MaxWorkerIdleSeconds and starts new
// ones on demand, so a long-lived child sees an unbounded number of
// threads. A thread key's destructor hands an exiting thread's buffer back
// and the next new thread takes it over: the buffers a child allocates stay
// bounded by the threads alive at once (the MPM's and mod_http2's), and
// every record is delivered. Which thread logs an HTTP/2 stream is
// mod_http2's choice (the one that destroys the stream's end-of-request
// bucket, not always the worker that ran it), so how many buffers are
// taken over varies from run to run (0 to 2 here); the bound and the
// delivery do not.
import t from 'tap';
import http2 from 'node:http2';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, findApache, sleep, startApacheWithReceiver } from './httpd/apache.js';

const install = findApache();

const MPM_THREADS = 4;
const H2_WORKERS = 4;
const ROUNDS = 3;

/** One child; mod_http2 with one permanent worker and up to H2_WORKERS, idle ones stopped after a second; every record built in its thread's buffer (no batching). */
const CHURN = `
ReqinLogFlushInterval 0
StartServers 1
ServerLimit 1
ThreadsPerChild ${MPM_THREADS}
MaxRequestWorkers ${MPM_THREADS}
MinSpareThreads 1
MaxSpareThreads ${MPM_THREADS}
H2MinWorkers 1
H2MaxWorkers ${H2_WORKERS}
H2MaxWorkerIdleSeconds 1
`;

/** Concurrent requests, each on its own h2c (prior knowledge) connection; resolves with their statuses. */
async function concurrentStreams(port: number, paths: string[]): Promise<number[]> {
  return Promise.all(paths.map((path) => new Promise<number>((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const s = session.request({ ':path': path });
    let status = 0;
    s.on('response', (h) => void (status = Number(h[':status'])));
    s.on('error', reject);
    s.resume();
    s.on('end', () => {
      session.close();
      resolve(status);
    });
  })));
}

if (!install) {
  t.test('mod_reqin_log thread buffers', { skip: 'apache2 is not installed (scripts/setup.sh installs it)' }, () => {});
} else {
  ensureBuilt();

  t.test('thread buffers stay bounded while mod_http2 workers come and go', async (t) => {
    const { apache, receiver } = await startApacheWithReceiver(t, install, 'threads', { mpm: 'event', extra: CHURN });
    // a handler slow enough that every stream of a round holds a worker
    writeFileSync(join(apache.dir, 'cgi', 'slow'), '#!/bin/sh\nsleep 0.3\nprintf "Content-Type: text/plain\\r\\n\\r\\nok"\n', { mode: 0o755 });
    const paths: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // more streams than workers: every worker busy, new ones started
      const batch = Array.from({ length: 2 * H2_WORKERS }, (_, i) => `/cgi/slow?round=${round}&i=${i}`);
      paths.push(...batch);
      t.same(await concurrentStreams(apache.port, batch), batch.map(() => 200), `round ${round}: ${batch.length} concurrent requests answered`);
      // idle workers above H2MinWorkers stop after a second
      await sleep(1700);
    }
    await apache.stop();
    const summary = apache.errorLog.split('\n').find((l) => l.includes('RQL00020')) ?? '';
    const m = /sent (\d+), dropped (\d+) .* thread buffers (\d+) \(taken over from exited threads (\d+)\)/.exec(summary);
    t.ok(m, 'the child reports its thread buffers at exit', { summary });
    const [sent, dropped, buffers, reused] = (m ?? []).slice(1).map(Number);
    t.equal(dropped, 0, 'nothing dropped');
    t.equal(sent, paths.length, 'one record per stream sent');
    const uris = receiver.records().map((r) => r.uri as string).filter((u) => u.startsWith('/cgi/slow')).sort();
    t.same(uris, [...paths].sort(), 'the receiver got every record once');
    // threads that logged: the MPM's and mod_http2's, started and stopped
    // each round; buffers only for those alive at once
    t.ok(buffers! >= 1 && buffers! <= MPM_THREADS + H2_WORKERS, `${buffers} buffers for at most ${MPM_THREADS + H2_WORKERS} threads alive at once (${reused} taken over from exited threads)`);
  });
}
