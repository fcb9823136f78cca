// The systemd units, tmpfiles.d and sysusers.d files: systemd's own checks
// (systemd-analyze verify, security --offline, calendar), the hardening
// every service must keep, and the user and directories they create in a
// scratch root.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS_BY_PATH } from '../src/config/schema.js';
import { repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';

const unitDir = join(repoRoot, 'packaging/systemd');
const SERVICES = ['ja4-capture', 'ja4-correlator', 'ja4-detector', 'ja4-dashboard', 'ja4-all', 'ja4-detector-train'];
const EXEC: Record<string, string> = {
  'ja4-capture': '/usr/bin/ja4 capture',
  'ja4-correlator': '/usr/bin/ja4 run --no-simulate --no-capture --no-detector --no-dashboard --metrics-service correlator',
  'ja4-detector': '/usr/bin/ja4 detector run',
  'ja4-dashboard': '/usr/bin/ja4 dashboard',
  'ja4-all': '/usr/bin/ja4 run ${JA4_RUN_INPUT}',
  'ja4-detector-train': '/usr/bin/ja4 detector train',
};
const CAPTURING = new Set(['ja4-capture', 'ja4-all']);
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** section -> key -> values (a key may repeat) */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      current = new Map();
      sections.set(s[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a unit line: ${raw}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

t.test('every service keeps the hardening and runs as ja4', async (t) => {
  const files = readdirSync(unitDir).filter((f) => f.endsWith('.service')).sort();
  t.same(files, SERVICES.map((s) => `${s}.service`).sort(), 'the unit files');
  for (const name of SERVICES) {
    const unit = parseUnit(readFileSync(join(unitDir, `${name}.service`), 'utf8'));
    const svc = unit.get('Service')!;
    const one = (k: string) => svc.get(k)?.join('\n');
    t.same(
      {
        ExecStart: one('ExecStart'),
        User: one('User'),
        Group: one('Group'),
        NoNewPrivileges: one('NoNewPrivileges'),
        ProtectSystem: one('ProtectSystem'),
        ProtectHome: one('ProtectHome'),
        PrivateTmp: one('PrivateTmp'),
        StateDirectory: one('StateDirectory'),
        RuntimeDirectory: one('RuntimeDirectory'),
        RuntimeDirectoryPreserve: one('RuntimeDirectoryPreserve'),
        StandardOutput: one('StandardOutput'),
        StandardError: one('StandardError'),
        Environment: svc.get('Environment')?.includes('JA4_CONFIG=/etc/ja4/config.yaml'),
        EnvironmentFile: one('EnvironmentFile'),
        SystemCallFilter: one('SystemCallFilter'),
        CapabilityBoundingSet: one('CapabilityBoundingSet'),
        AmbientCapabilities: one('AmbientCapabilities'),
      },
      {
        ExecStart: EXEC[name],
        User: 'ja4',
        Group: 'ja4',
        NoNewPrivileges: 'yes',
        ProtectSystem: 'strict',
        ProtectHome: 'yes',
        PrivateTmp: 'yes',
        StateDirectory: 'ja4',
        RuntimeDirectory: 'ja4',
        RuntimeDirectoryPreserve: 'yes',
        StandardOutput: 'journal',
        StandardError: 'journal',
        Environment: true,
        EnvironmentFile: '-/etc/ja4/ja4.env',
        SystemCallFilter: '@system-service',
        CapabilityBoundingSet: CAPTURING.has(name) ? 'CAP_NET_RAW CAP_NET_ADMIN' : '',
        AmbientCapabilities: CAPTURING.has(name) ? 'CAP_NET_RAW CAP_NET_ADMIN' : undefined,
      },
      name,
    );
    t.match(one('RestrictAddressFamilies'), CAPTURING.has(name) ? /AF_PACKET/ : /^AF_UNIX AF_INET AF_INET6 AF_NETLINK$/, `${name}: address families`);
    // ja4-all never falls back to the simulator in production: sockets only
    // unless ja4.env sets JA4_RUN_INPUT=--iface=IF.
    if (name === 'ja4-all') t.same(svc.get('Environment'), ['JA4_RUN_INPUT=--no-simulate', 'JA4_CONFIG=/etc/ja4/config.yaml']);
    const conflicts = unit.get('Unit')!.get('Conflicts')?.join(' ');
    if (name === 'ja4-all') t.equal(conflicts, 'ja4-capture.service ja4-correlator.service ja4-detector.service ja4-dashboard.service', 'ja4-all excludes the split services (one embedded database)');
    else if (name !== 'ja4-detector-train') t.equal(conflicts, 'ja4-all.service', `${name} conflicts with ja4-all`);
  }
});

t.test('systemd-analyze verify and security', { skip: hasSystemdAnalyze ? false : 'systemd-analyze is not installed' }, async (t) => {
  // verify checks that ExecStart's program exists: point it at a stand-in.
  const dir = scratchDir(t);
  const fake = join(dir, 'ja4');
  writeFileSync(fake, '#!/bin/sh\n');
  chmodSync(fake, 0o755);
  const units: string[] = [];
  for (const f of readdirSync(unitDir).filter((f) => /\.(service|timer)$/.test(f))) {
    writeFileSync(join(dir, f), readFileSync(join(unitDir, f), 'utf8').replaceAll('/usr/bin/ja4', fake));
    units.push(f);
  }
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...units], { cwd: dir, encoding: 'utf8' });
  t.equal(verify.status, 0, verify.stderr);
  t.equal(verify.stderr.trim(), '', 'no warnings');
  for (const name of SERVICES) {
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', `./${name}.service`], { cwd: dir, encoding: 'utf8' });
    const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout);
    t.ok(m, `${name}: exposure level printed`);
    const limit = CAPTURING.has(name) ? 2.5 : 2.0;
    t.ok(Number(m?.[1]) <= limit, `${name}: exposure ${m?.[1]} <= ${limit} (systemd-analyze security)`);
  }
  const cal = parseUnit(readFileSync(join(unitDir, 'ja4-detector-train.timer'), 'utf8')).get('Timer')!.get('OnCalendar')![0]!;
  const c = spawnSync('systemd-analyze', ['calendar', cal], { encoding: 'utf8' });
  t.equal(c.status, 0, c.stderr);
  t.match(c.stdout, /Normalized form: Sun \*-\*-\* 03:00:00/);
});

t.test('sysusers.d and tmpfiles.d in a scratch root', { skip: spawnSync('systemd-sysusers', ['--version']).status === 0 ? false : 'systemd-sysusers is not installed' }, async (t) => {
  const root = scratchDir(t);
  for (const d of ['etc', 'usr/lib/sysusers.d', 'usr/lib/tmpfiles.d']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(join(unitDir, 'ja4.sysusers'), join(root, 'usr/lib/sysusers.d/ja4.conf'));
  copyFileSync(join(unitDir, 'ja4.tmpfiles'), join(root, 'usr/lib/tmpfiles.d/ja4.conf'));
  const su = spawnSync('systemd-sysusers', [`--root=${root}`], { encoding: 'utf8' });
  t.equal(su.status, 0, su.stderr);
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8').trim().split(':');
  t.same([passwd[0], passwd[4], passwd[5], passwd[6]], ['ja4', 'ja4-platform services', '/var/lib/ja4', '/sbin/nologin']);
  t.ok(Number(passwd[2]) < 1000, 'a system user');
  const tf = spawnSync('systemd-tmpfiles', ['--create', `--root=${root}`], { encoding: 'utf8' });
  t.equal(tf.status, 0, tf.stderr);
  for (const d of ['run/ja4', 'var/lib/ja4']) {
    const st = statSync(join(root, d));
    t.same({ mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid }, { mode: '750', uid: Number(passwd[2]), gid: Number(passwd[3]) }, `/${d}: 0750 ja4:ja4`);
  }
});

t.test('the paths agree: units, tmpfiles, Apache conf and config defaults', async (t) => {
  const httpd = readFileSync(join(repoRoot, 'packaging/httpd/reqin_log.conf'), 'utf8');
  t.match(httpd, /^#LoadModule reqin_log_module modules\/mod_reqin_log\.so$/m, 'the module is off until the line is uncommented');
  t.notMatch(httpd, /^LoadModule/m);
  const socket = /^\s*ReqinLogSocket (\S+) (\S+)$/m.exec(httpd);
  t.same([socket?.[1], socket?.[2]], [OPTIONS_BY_PATH.get('sockets.http_path')!.default, OPTIONS_BY_PATH.get('sockets.http_type')!.default], 'Apache sends where the correlator listens');
  t.match(readFileSync(join(unitDir, 'ja4.tmpfiles'), 'utf8'), /^d \/run\/ja4 0750 ja4 ja4 -$/m);
  t.equal(readFileSync(join(unitDir, '80-ja4-platform.preset'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).join('\n'), 'disable ja4-*.service\ndisable ja4-*.timer');
});
