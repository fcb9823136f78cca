// What one correlation step takes from the stage's queues (the receivers'
// and the capture's buffers): TLS events first, then requests, at most
// STEP_MAX_BYTES in all; the rest stays queued, in order, for the next step.
// Main thread.

/**
 * Input one step takes at most; the rest waits for the next step, which
 * starts at once. Behind a busy database the backlog reaches tens of MiB
 * (bench:correlator's sender waits at 64 MiB), and a step of all of it
 * allocated its input and its rows past 32 MiB each: above glibc's largest
 * mmap threshold, so fresh pages zeroed by the kernel on first touch, and
 * unmapped again when V8 swept them. Capped at 16 MiB, the CPU of V8's
 * threads went from 2.8-2.9 to 1.3-1.6 us per request, the whole pipeline
 * from 19.3 to 16.0-18.3 (docs/correlator.md, session 16). A step's fixed
 * cost is amortized long before 16 MiB (~19k requests).
 */
export const STEP_MAX_BYTES = 16 << 20;

/**
 * The step's input, each kind concatenated (undefined when none is taken),
 * removed from the queues. TLS events go first: a request whose TLS event
 * stayed queued would wait in the worker for it. While requests are queued
 * too, events take at most half the step, so that a flood of them cannot
 * starve the requests. Each kind takes at least its first buffer when its
 * share is above zero, so a buffer larger than the step still goes.
 */
export function takeStepInput(tlsQueue: Buffer[], httpQueue: Buffer[], maxBytes: number): { tls: Buffer | undefined; http: Buffer | undefined } {
  const tls = takeQueued(tlsQueue, httpQueue.length > 0 ? maxBytes / 2 : maxBytes);
  const http = takeQueued(httpQueue, maxBytes - (tls?.length ?? 0));
  return { tls, http };
}

/**
 * The first buffers of `queue` up to `maxBytes` in all (at least one unless
 * `maxBytes` <= 0), removed from it and concatenated; undefined when none.
 */
function takeQueued(queue: Buffer[], maxBytes: number): Buffer | undefined {
  if (queue.length === 0 || maxBytes <= 0) return undefined;
  let n = 0;
  let bytes = 0;
  for (const b of queue) {
    if (n > 0 && bytes + b.length > maxBytes) break;
    bytes += b.length;
    n++;
  }
  const taken = queue.splice(0, n);
  return taken.length === 1 ? taken[0] : Buffer.concat(taken, bytes);
}
