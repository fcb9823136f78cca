// What one correlation step takes from the stage's queues
// (src/pipeline/step-input.ts): everything under the cap; TLS events first,
// at most half the step while requests wait; a buffer larger than the step
// still goes; what is left stays queued, in order.
import t from 'tap';
import { STEP_MAX_BYTES, takeStepInput } from '../src/pipeline/step-input.js';

/** `n` buffers of `size` bytes, each filled with its own letter from `first` */
function buffers(n: number, size: number, first: string): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(size, String.fromCharCode(first.charCodeAt(0) + i)));
}

t.test('the cap is 16 MiB', async (t) => {
  t.equal(STEP_MAX_BYTES, 16 << 20);
});

t.test('under the cap: both queues taken whole, concatenated in order', async (t) => {
  const tls = buffers(2, 100, 'a');
  const http = buffers(3, 200, 'A');
  const { tls: tt, http: hh } = takeStepInput(tls, http, 10_000);
  t.equal(tt?.toString(), 'a'.repeat(100) + 'b'.repeat(100));
  t.equal(hh?.toString(), 'A'.repeat(200) + 'B'.repeat(200) + 'C'.repeat(200));
  t.same([tls.length, http.length], [0, 0], 'both queues emptied');
});

t.test('empty queues: nothing taken', async (t) => {
  const { tls, http } = takeStepInput([], [], 1000);
  t.equal(tls, undefined);
  t.equal(http, undefined);
});

t.test('over the cap: TLS events first, the rest stays queued in order', async (t) => {
  const tls = buffers(2, 300, 'a');
  const http = buffers(6, 300, 'A');
  // the step: 2000 bytes; with requests queued, events take at most 1000 (both: 600)
  const first = takeStepInput(tls, http, 2000);
  t.equal(first.tls?.length, 600, 'both event buffers');
  t.equal(first.http?.toString(), 'ABCD'.split('').map((c) => c.repeat(300)).join(''), 'then the four request buffers that fit in the 1400 left');
  t.equal(http.length, 2, 'two request buffers left');
  t.equal(http[0]?.toString(), 'E'.repeat(300), 'in order');
  const next = takeStepInput(tls, http, 2000);
  t.equal(next.tls, undefined);
  t.equal(next.http?.toString(), 'E'.repeat(300) + 'F'.repeat(300));
});

t.test('a flood of TLS events takes at most half the step while requests wait', async (t) => {
  const tls = buffers(20, 100, 'a');
  const http = buffers(1, 100, 'A');
  const { tls: tt, http: hh } = takeStepInput(tls, http, 1000);
  t.equal(tt?.length, 500, 'five event buffers: half the step');
  t.equal(hh?.length, 100, 'the request buffer goes in the same step');
  t.equal(tls.length, 15, 'fifteen event buffers left');
  // with no request waiting, events may fill the step
  const alone = takeStepInput(tls, [], 1000);
  t.equal(alone.tls?.length, 1000, 'ten event buffers');
  t.equal(tls.length, 5);
});

t.test('a buffer larger than the step still goes, alone', async (t) => {
  const http = [Buffer.alloc(5000, 'x'), Buffer.alloc(10, 'y')];
  const { tls, http: hh } = takeStepInput([], http, 1000);
  t.equal(tls, undefined);
  t.equal(hh?.length, 5000, 'taken whole, not split');
  t.equal(http.length, 1, 'the next one waits');
});
