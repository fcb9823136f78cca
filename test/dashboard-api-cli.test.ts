// `ja4 user` and `ja4 dashboard` through main(), on a real embedded
// database directory: users and tokens written and audited, passwords
// never taken from argv, the server started and stopped, bad options
// refused with messages naming them.
import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { runUserCommand } from '../src/cli/user-command.js';
import { runDashboardCommand } from '../src/cli/dashboard-command.js';
import { CliError } from '../src/cli/cli-error.js';
import { storageScratchDir } from './helpers/storage-fixture.js';
import { PASSWORD } from './helpers/dashboard-fixture.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err, text: () => out.join(''), errText: () => err.join('') };
}

async function run(argv: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const c = io();
  try {
    const code = argv[0] === 'user' ? await runUserCommand(argv.slice(1), c.io, async () => stdin) : await main(argv, c.io);
    return { code, out: c.text(), err: c.errText() };
  } catch (e) {
    if (e instanceof CliError) return { code: e.exitCode, out: c.text(), err: e.message };
    throw e;
  }
}

const dir = join(storageScratchDir(t), 'db');
const db = ['--db-dir', dir];

t.test('before migrations: a clear error', async (t) => {
  const r = await run(['user', 'list', ...db]);
  t.same([r.code, r.err], [1, 'the dashboard tables are missing: run "ja4 db migrate" first']);
});

t.test('the first admin of ja4 run is not created when its audit row cannot be written', async (t) => {
  t.equal((await run(['db', 'migrate', ...db])).code, 0);
  const { openStorage, validateStorageOptions } = await import('../src/storage/index.js');
  const { ensureFirstAdmin } = await import('../src/pipeline/first-admin.js');
  const storage = await openStorage(validateStorageOptions({ dataDir: dir }));
  try {
    // the real engine, its audit inserts refused (as a full disk would)
    const refusing = new Proxy(storage, {
      get(target, prop) {
        if (prop === 'insertRows') {
          return async (table: string, rows: Record<string, unknown>[]) => {
            if (table === 'ja4_processing.audit_logs') throw new Error('No space left on device (test)');
            return target.insertRows(table, rows);
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const file = join(storageScratchDir(t), 'initial-admin-password');
    await t.rejects(ensureFirstAdmin(refusing, file), { code: 'ERR_AUDIT_UNAVAILABLE', message: 'user.add admin not made: the audit trail could not be written (No space left on device (test))' });
    t.same(await storage.query('SELECT name FROM ja4_processing.dashboard_users'), [], 'no account');
    t.notOk(existsSync(file), 'no password file');
  } finally {
    await storage.close();
  }
});

t.test('users through the CLI', async (t) => {
  t.equal((await run(['db', 'migrate', ...db])).code, 0);
  const pwFile = join(storageScratchDir(t), 'pw');
  writeFileSync(pwFile, `${PASSWORD}\nignored second line\n`);
  t.same(await run(['user', 'add', 'bob', '--role', 'analyst', '--password-file', pwFile, ...db]), { code: 0, out: 'user bob added (analyst)\n', err: '' });
  t.same((await run(['user', 'add', 'carol', '--role', 'viewer', ...db], `${PASSWORD}\n`)).out, 'user carol added (viewer)\n', 'password from stdin');
  const list = await run(['user', 'list', ...db]);
  t.match(list.out, /^name\s+role\s+created \(UTC\)\nbob\s+analyst\s+\d{4}-\d\d-\d\dT[\d:.]+Z\ncarol\s+viewer\s+\S+\n2 users\n$/);
  t.same(await run(['user', 'role', 'carol', '--role', 'admin', ...db]), { code: 0, out: 'carol: viewer -> admin\n', err: '' });
  t.same((await run(['user', 'passwd', 'bob', ...db], 'a brand new password\n')).out, 'password of bob changed\n');
  t.same((await run(['user', 'remove', 'carol', ...db])).out, 'user carol removed\n');
  const tok = await run(['user', 'token', '--wall', '--name', 'lobby', ...db]);
  t.match(tok.out, /^ja4w_[A-Za-z0-9_-]{32}\n$/);
  t.match(tok.err, /read-only wall token ja4w_\S{7} created; it is shown only now/);
  t.ok(tok.err.includes(`open the wall at http://HOST:8000/wall#token=${tok.out.trim()}\n`), 'the wall URL carries the token in the fragment');
  const tokens = await run(['user', 'token', '--list', ...db]);
  t.match(tokens.out, new RegExp(`^${tok.out.slice(0, 12)}  lobby  viewer  \\S+\\n1 token\\n$`));
  t.same((await run(['user', 'token', '--revoke', tok.out.slice(0, 12), ...db])).out, `token ${tok.out.slice(0, 12)} revoked\n`);
  t.same((await run(['user', 'token', '--list', ...db])).out, '0 tokens\n');

  // the audit trail of all that, read with a storage of our own once the CLI closed its own
  const { openStorage, validateStorageOptions } = await import('../src/storage/index.js');
  const storage = await openStorage(validateStorageOptions({ dataDir: dir }));
  try {
    const rows = await storage.query<{ actor: string; action: string; subject: string; before: string; after: string }>(
      'SELECT actor, action, subject, before, after FROM ja4_processing.audit_logs ORDER BY ts, action',
    );
    t.same(
      rows.map((r) => [r.action, r.subject]),
      [
        ['user.add', 'bob'],
        ['user.add', 'carol'],
        ['user.role', 'carol'],
        ['user.passwd', 'bob'],
        ['user.remove', 'carol'],
        ['token.add', tok.out.slice(0, 12)],
        ['token.revoke', tok.out.slice(0, 12)],
      ],
    );
    t.ok(rows.every((r) => r.actor.startsWith('cli')), 'done by cli:<login>');
    t.same(JSON.parse(rows[2]!.before), { name: 'carol', role: 'viewer' });
    t.same(JSON.parse(rows[2]!.after), { name: 'carol', role: 'admin' });
    t.notMatch(JSON.stringify(rows), /scrypt|correct horse/, 'no password or hash in the audit trail');
    const hash = await storage.query<{ h: string }>("SELECT password_hash AS h FROM ja4_processing.dashboard_users FINAL WHERE name = 'bob'");
    t.match(hash[0]!.h, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/, 'scrypt N=2^15 r=8 p=1, 16-byte salt, 32-byte key');
  } finally {
    await storage.close();
  }
});

t.test('bad usage names the option', async (t) => {
  const cases: [string[], RegExp][] = [
    [['user', 'add', 'dave', ...db], /--role is required/],
    [['user', 'add', 'dave', '--role', 'root', ...db], /--role must be one of viewer, analyst, admin, got "root"/],
    [['user', 'add', 'dave', '--role', 'viewer', '--password', 'x', ...db], /Unknown option '--password'/],
    [['user', 'add', 'dave', '--role', 'viewer', '--password-file', '/nonexistent/pw', ...db], /--password-file "\/nonexistent\/pw" cannot be read/],
    [['user', 'list', '--role', 'viewer', ...db], /--role is not an option of "ja4 user list"/],
    [['user', 'token', ...db], /give one of --wall, --list or --revoke ID/],
    [['user', 'frob', ...db], /unknown subcommand "frob"/],
  ];
  for (const [argv, message] of cases) {
    const r = await run(argv, '');
    t.equal(r.code, 2, `${argv.slice(0, 4).join(' ')}: exit 2`);
    t.match(r.err, message);
  }
  const short = await run(['user', 'add', 'dave', '--role', 'viewer', ...db], 'short\n');
  t.same([short.code, short.err], [2, 'ja4 user: password must be 12 to 1024 characters']);
  const dup = await run(['user', 'add', 'bob', '--role', 'viewer', ...db], `${PASSWORD}\n`);
  t.same([dup.code, dup.err], [1, 'ja4 user: user "bob" already exists']);
  t.equal((await run(['dashboard', '--listen', 'nowhere', ...db])).err.trim(), '--listen must be HOST:PORT, :PORT or PORT (port 0 to 65535), got "nowhere"');
  t.equal((await run(['dashboard', '--secure-cookies', 'maybe', ...db])).err.trim(), '--secure-cookies must be auto, always or never, got "maybe"');
  t.equal((await run(['dashboard', '--poll-ms', '5s', ...db])).err.trim(), '--poll-ms must be an integer from 0 to 3600000, got "5s"');
  t.equal((await run(['dashboard', '--max-query-memory-mb', '8', ...db])).err.trim(), '--max-query-memory-mb must be an integer from 16 to 1048576, got "8"');
  t.match((await run(['--help'])).out, /dashboard\s+the SOC dashboard server/);
});

t.test('ja4 user role with an audit table that refuses: exit 1, the role unchanged', async (t) => {
  const { openStorage, validateStorageOptions } = await import('../src/storage/index.js');
  // the audit table really gone from the engine (renamed away, put back below), not a mock
  const onDb = async <T>(fn: (s: Awaited<ReturnType<typeof openStorage>>) => Promise<T>): Promise<T> => {
    const storage = await openStorage(validateStorageOptions({ dataDir: dir }));
    try {
      return await fn(storage);
    } finally {
      await storage.close();
    }
  };
  const roleOf = (name: string) =>
    onDb(async (s) => (await s.query<{ role: string }>('SELECT role FROM ja4_processing.dashboard_users FINAL WHERE name = {name:String} AND deleted = 0', { name }))[0]?.role);
  const roleRows = () => onDb(async (s) => (await s.query<{ n: number }>("SELECT count() AS n FROM ja4_processing.audit_logs WHERE action LIKE 'user.role%' AND subject = 'bob'"))[0]!.n);
  t.equal(await roleOf('bob'), 'analyst');
  t.equal(await roleRows(), 0);
  await onDb((s) => s.command('RENAME TABLE ja4_processing.audit_logs TO ja4_processing.audit_logs_away'));
  let restored = false;
  const restore = async () => {
    if (!restored) await onDb((s) => s.command('RENAME TABLE ja4_processing.audit_logs_away TO ja4_processing.audit_logs'));
    restored = true;
  };
  t.teardown(restore);
  const refused = await run(['user', 'role', 'bob', '--role', 'admin', ...db]);
  t.equal(refused.code, 1);
  t.equal(refused.out, '');
  t.match(refused.err, /^ja4 user: user\.role bob not made: the audit trail could not be written \(.*audit_logs/);
  t.equal(await roleOf('bob'), 'analyst', 'no change without its audit row');
  await restore();
  t.same(await run(['user', 'role', 'bob', '--role', 'admin', ...db]), { code: 0, out: 'bob: analyst -> admin\n', err: '' }, 'with the trail back the same command works');
  t.equal(await roleOf('bob'), 'admin');
  t.equal(await roleRows(), 1, 'exactly one user.role row (the refused attempt left none)');
});

t.test('ja4 dashboard serves until told to stop', async (t) => {
  const c = io();
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const running = runDashboardCommand(['--listen', '127.0.0.1:0', '--poll-ms', '0', ...db], c.io, stopped);
  let port = 0;
  for (let i = 0; i < 200 && !port; i++) {
    await new Promise((r) => setTimeout(r, 50));
    port = Number(/"port":(\d+)/.exec(c.errText())?.[1] ?? 0);
  }
  t.match(c.errText().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string }).find((r) => r.msg === 'listening'), { level: 'info', service: 'ja4-dashboard', msg: 'listening', listen: '127.0.0.1:0', port: Number, server: 'uWebSockets.js', database: 'embedded' });
  const status = await (await fetch(`http://127.0.0.1:${port}/api/status`)).json();
  t.match(status, { ok: true, server: 'uws' });
  const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST', body: JSON.stringify({ username: 'bob', password: 'a brand new password' }) });
  t.equal(login.status, 200, 'the user made by the CLI logs in with the password set by passwd');
  stop();
  t.equal(await running, 0);
  t.match(JSON.parse(c.errText().trim().split('\n').at(-1)!), { level: 'info', service: 'ja4-dashboard', msg: 'stopped' });
});
