// The JSON-lines logger: exact lines with a fixed clock, level filtering,
// journald priority prefixes, errors and odd fields, the text format.
import t from 'tap';
import { createLogger } from '../src/config/index.js';

function capture(opts: Partial<Parameters<typeof createLogger>[0]> = {}) {
  const lines: string[] = [];
  const log = createLogger({ service: 'ja4-test', now: () => Date.UTC(2026, 10, 22, 3, 40, 0, 123), journal: false, write: (l) => void lines.push(l), ...opts });
  return { log, lines };
}

t.test('one JSON object per line, levels filtered', async (t) => {
  const { log, lines } = capture({ level: 'info' });
  log.debug('not written');
  log.info('started', { socket: '/run/ja4/http.socket', workers: 2 });
  log.warn('spool above 80%', { spool_bytes: 123n });
  log.child({ stage: 'writer' }).error('insert failed', { rows: 10, msg: 'cannot replace msg', level: 'x' });
  t.same(lines, [
    '{"ts":"2026-11-22T03:40:00.123Z","level":"info","service":"ja4-test","msg":"started","socket":"/run/ja4/http.socket","workers":2}\n',
    '{"ts":"2026-11-22T03:40:00.123Z","level":"warn","service":"ja4-test","msg":"spool above 80%","spool_bytes":"123"}\n',
    '{"ts":"2026-11-22T03:40:00.123Z","level":"error","service":"ja4-test","msg":"insert failed","stage":"writer","rows":10}\n',
  ]);
  t.equal(log.isEnabled('debug'), false);
  t.equal(log.isEnabled('error'), true);
});

t.test('errors, circular fields, journald prefixes', async (t) => {
  const { log, lines } = capture({ level: 'debug', journal: true });
  const err = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  err.stack = 'Error: connect ECONNREFUSED\n    at x';
  log.error('database down', { err });
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  log.debug('odd', { circular });
  log.info('i');
  log.warn('w');
  t.equal(lines[0], '<3>{"ts":"2026-11-22T03:40:00.123Z","level":"error","service":"ja4-test","msg":"database down","err":{"name":"Error","message":"connect ECONNREFUSED","code":"ECONNREFUSED","stack":"Error: connect ECONNREFUSED\\n    at x"}}\n');
  t.match(lines[1], /^<7>\{"ts":"2026-11-22T03:40:00.123Z","level":"debug","service":"ja4-test","msg":"odd","log_error":"fields not serializable: Converting circular structure to JSON/);
  t.equal(lines[2]!.slice(0, 3), '<6>');
  t.equal(lines[3]!.slice(0, 3), '<4>');
  for (const l of lines) t.doesNotThrow(() => JSON.parse(l.slice(3)), 'valid JSON after the prefix');
});

t.test('text format and option checks', async (t) => {
  const { log, lines } = capture({ format: 'text' });
  log.warn('receiver behind', { socket: 'http', dropped: 3, note: 'two words' });
  t.same(lines, ['2026-11-22T03:40:00.123Z WARN  ja4-test: receiver behind socket=http dropped=3 note="two words"\n']);
  t.throws(() => createLogger({ service: 's', level: 'verbose' as 'info' }), { message: 'logger level must be one of debug, info, warn, error, got "verbose"' });
  t.throws(() => createLogger({ service: 's', format: 'xml' as 'json' }), { message: 'logger format must be json or text, got "xml"' });
});
