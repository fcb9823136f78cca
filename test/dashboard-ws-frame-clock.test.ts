// The Hub's frame clock: a flush at the end of the tick an item was
// published in, one flush per tick even when a timer fires early.
import t from 'tap';
import { FrameClock } from '../src/dashboard/ws/hub.js';

t.test('a flush waits for the end of the current tick', async (t) => {
  const clock = new FrameClock(10);
  t.equal(clock.next(1003), 7, 'published 3 ms into tick 100: flushed at 1010');
  t.equal(clock.next(1010.25), 9.75, 'the next item, just after that flush: at 1020');
  t.equal(clock.next(1050), 10, 'on a tick boundary: a whole tick, not 0');
});

t.test('a timer that fires early does not give its tick a second frame', async (t) => {
  const clock = new FrameClock(10);
  t.equal(clock.next(1001), 9, 'tick ending at 1010');
  // the timer fired at 1009.5, early (Node rounds to whole ms); an item published now belongs to the next tick
  t.equal(clock.next(1009.5), 10.5, 'at 1020, not 1010');
  t.equal(clock.next(1019.75), 10.25, 'and again: 1030');
});

t.test('a timer never gets less than a millisecond', async (t) => {
  const clock = new FrameClock(10);
  t.equal(clock.next(1009.9), 1, '0.1 ms left in the tick: 1 ms (timers round down to 1 anyway)');
});
