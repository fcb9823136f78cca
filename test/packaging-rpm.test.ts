// The RPMs, built by rpmbuild from this checkout (packaging/rpm/build-rpm.sh,
// as `make rpm` does): the file lists and attributes, the %config(noreplace)
// files, the scriptlets, the dependencies, the source RPM; then both
// packages installed into a scratch root (`rpm --root DIR --nodeps -i`), the
// installed `ja4` run against the installed config and a sample capture,
// and Apache's config test with the installed module and conf.d file.
//
// The checkout's own addon and module (build/, made by `make build`, which
// `make test` runs first) are packaged with --define ja4_prebuilt so the test
// takes a few minutes on a shared 2-core machine; JA4_RPM_TEST_FULL=1 makes
// rpmbuild compile them as `make rpm` and `rpmbuild --rebuild` do.
import t from 'tap';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS } from '../src/config/schema.js';
import { Apache, findApache } from './httpd/apache.js';
import { repoRoot } from './helpers/paths.js';
import { scratchDir } from './helpers/scratch-dir.js';

const VERSION = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string;
const hasRpmbuild = spawnSync('rpmbuild', ['--version']).status === 0;
const APPDIR = '/usr/lib64/ja4-platform';

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

if (!hasRpmbuild) {
  t.test('RPM packages', { skip: 'rpmbuild is not installed (scripts/setup.sh installs Debian\'s "rpm" package, rpm-build on EL)' }, () => {});
} else {
  // rpmbuild copies ~700 MB (chDB's library is 540 MB): minutes, not seconds.
  t.setTimeout(30 * 60_000);
  const top = scratchDir(t, 'ja4-rpm-');
  const prebuilt = process.env.JA4_RPM_TEST_FULL !== '1' && existsSync(join(repoRoot, 'build/Release/ja4.node')) && existsSync(join(repoRoot, 'build/httpd/mod_reqin_log.so'));
  const build = run('bash', [join(repoRoot, 'packaging/rpm/build-rpm.sh'), top, '--define', '_binary_payload w0.ufdio', ...(prebuilt ? ['--define', `ja4_prebuilt ${join(repoRoot, 'build')}`] : [])], {
    env: { ...process.env, JA4_RPM_GZIP_LEVEL: '1' },
  });
  const main = join(top, `RPMS/x86_64/ja4-platform-${VERSION}-1.x86_64.rpm`);
  const mod = join(top, `RPMS/x86_64/mod_reqin_log-${VERSION}-1.x86_64.rpm`);
  const srpm = join(top, `SRPMS/ja4-platform-${VERSION}-1.src.rpm`);
  const q = (pkg: string, ...args: string[]) => lines(run('rpm', ['-qp', ...args, pkg]).stdout);

  t.test('rpmbuild builds the two packages and the source RPM', async (t) => {
    t.equal(build.status, 0, build.status === 0 ? 'rpmbuild -ba exits 0' : `rpmbuild failed:\n${build.stderr.slice(-4000)}`);
    for (const f of [main, mod, srpm]) t.ok(existsSync(f), f);
  });

  t.test('ja4-platform: the file list', async (t) => {
    const files = q(main, '-l');
    const outside = files.filter((f) => !f.startsWith(`${APPDIR}/`) && !f.startsWith('/usr/share/doc/'));
    t.same(outside.sort(), [
      '/etc/ja4',
      '/etc/ja4/config.yaml',
      '/etc/ja4/ja4.env',
      '/run/ja4',
      '/usr/bin/ja4',
      APPDIR,
      '/usr/lib/systemd/system-preset/80-ja4-platform.preset',
      '/usr/lib/systemd/system/ja4-all.service',
      '/usr/lib/systemd/system/ja4-capture.service',
      '/usr/lib/systemd/system/ja4-correlator.service',
      '/usr/lib/systemd/system/ja4-dashboard.service',
      '/usr/lib/systemd/system/ja4-detector-train.service',
      '/usr/lib/systemd/system/ja4-detector-train.timer',
      '/usr/lib/systemd/system/ja4-detector.service',
      '/usr/lib/sysusers.d/ja4.conf',
      '/usr/lib/tmpfiles.d/ja4.conf',
      '/usr/share/ja4-platform',
      '/usr/share/ja4-platform/grafana',
      '/usr/share/ja4-platform/grafana/ja4-platform.json',
      '/usr/share/ja4-platform/selinux',
      '/usr/share/ja4-platform/selinux/ja4.fc',
      '/usr/share/ja4-platform/selinux/ja4.te',
      '/var/lib/ja4',
    ].sort());
    const has = new Set(files);
    for (const f of ['bin/ja4.js', 'build/Release/ja4.node', 'dist/cli/main.js', 'dist/config/load.js', 'dist/storage/migrations.js', 'package.json', 'sql/0001_create_databases.sql', 'data/reference/ja4plus-mapping.csv', 'data/simulator/client-hellos.json', 'node_modules/chdb/package.json', 'node_modules/@chdb/lib-linux-x64-gnu/libchdb.so', 'node_modules/yaml/package.json', 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1', 'models']) {
      t.ok(has.has(`${APPDIR}/${f}`), `${f} is packaged`);
    }
    t.ok(has.has('/usr/share/doc/ja4-platform/README.md') || has.has('/usr/share/doc/ja4-platform-' + VERSION + '/README.md'), 'README as documentation');
    const inApp = files.filter((f) => f.startsWith(`${APPDIR}/`)).map((f) => f.slice(APPDIR.length + 1));
    t.same(inApp.filter((f) => /^node_modules\/(typescript|@types\/node|node-api-headers|undici-types)(\/|$)/.test(f) || f === 'node_modules/.ja4-build-only'), [], 'build-only modules stay out');
    t.same(inApp.filter((f) => /\.(map|d\.ts)$/.test(f) && f.startsWith('dist/')), [], 'no source maps or declarations');
    t.same(inApp.filter((f) => /\.(dll|dylib)$|\/(darwin|win32)\//.test(f)), [], 'no other systems\' binaries');
    t.same(inApp.filter((f) => /^(src|test|native|bench|packaging)\//.test(f)), [], 'no sources or tests');
  });

  t.test('attributes and %config(noreplace)', async (t) => {
    t.same(q(main, '-c').sort(), ['/etc/ja4/config.yaml', '/etc/ja4/ja4.env']);
    t.same(q(mod, '-c'), ['/etc/httpd/conf.d/reqin_log.conf']);
    const attrs = (pkg: string) => new Map(q(pkg, '--qf', '[%{FILENAMES}\t%{FILEMODES:perms}\t%{FILEUSERNAME}\t%{FILEGROUPNAME}\t%{FILEFLAGS:fflags}\n]').map((l) => {
      const [name, ...rest] = l.split('\t');
      return [name!, rest.join(' ')];
    }));
    const a = attrs(main);
    t.same(
      ['/etc/ja4', '/etc/ja4/config.yaml', '/etc/ja4/ja4.env', '/var/lib/ja4', '/run/ja4', '/usr/bin/ja4', `${APPDIR}/build/Release/ja4.node`, '/usr/lib/systemd/system/ja4-all.service'].map((f) => `${f} ${a.get(f)}`),
      [
        '/etc/ja4 drwxr-x--- root ja4 ',
        '/etc/ja4/config.yaml -rw-r----- root ja4 cn',
        '/etc/ja4/ja4.env -rw-r----- root ja4 cn',
        '/var/lib/ja4 drwxr-x--- ja4 ja4 ',
        '/run/ja4 drwxr-x--- ja4 ja4 g',
        '/usr/bin/ja4 -rwxr-xr-x root root ',
        `${APPDIR}/build/Release/ja4.node -rwxr-xr-x root root `,
        '/usr/lib/systemd/system/ja4-all.service -rw-r--r-- root root ',
      ],
      'modes, owners; c = %config, n = noreplace, g = %ghost',
    );
    const m = attrs(mod);
    t.equal(m.get('/etc/httpd/conf.d/reqin_log.conf'), '-rw-r--r-- root root cn');
    t.equal(m.get('/usr/lib64/httpd/modules/mod_reqin_log.so'), '-rwxr-xr-x root root ');
  });

  t.test('scriptlets: the ja4 user, systemd preset, reload, restart', async (t) => {
    const s = run('rpm', ['-qp', '--scripts', main]).stdout;
    const section = (name: string) => (new RegExp(`${name} scriptlet \\(using /bin/sh\\):\\n([\\s\\S]*?)(?=\\n\\w+ scriptlet|$)`).exec(s)?.[1] ?? '').trim();
    t.equal(section('preinstall'), 'getent group ja4 >/dev/null || groupadd -r ja4\ngetent passwd ja4 >/dev/null || useradd -r -g ja4 -d /var/lib/ja4 -s /sbin/nologin -c "ja4-platform services" ja4\nexit 0');
    const units = 'ja4-capture.service ja4-correlator.service ja4-detector.service ja4-detector-train.timer ja4-dashboard.service ja4-all.service';
    t.match(section('postinstall'), `/usr/bin/systemd-tmpfiles --create /usr/lib/tmpfiles.d/ja4.conf`);
    t.match(section('postinstall'), `if [ $1 -eq 1 ] && [ -x /usr/bin/systemctl ]; then\n  /usr/bin/systemctl --no-reload preset ${units} >/dev/null 2>&1 || :`);
    t.match(section('preuninstall'), /if \[ \$1 -eq 0 \] && \[ -x \/usr\/bin\/systemctl \]; then\n {2}\/usr\/bin\/systemctl --no-reload disable --now ja4-capture\.service/);
    t.match(section('postuninstall'), '/usr/bin/systemctl daemon-reload >/dev/null 2>&1 || :');
    t.match(section('postuninstall'), /if \[ \$1 -ge 1 \]; then\n {4}\/usr\/bin\/systemctl try-restart ja4-capture\.service/);
    // The preset names every unit the package ships (a renamed unit must not be forgotten).
    for (const u of q(main, '-l').filter((f) => f.startsWith('/usr/lib/systemd/system/ja4-') && f !== '/usr/lib/systemd/system/ja4-detector-train.service')) {
      t.match(section('postinstall'), u.split('/').pop()!, `preset covers ${u.split('/').pop()}`);
    }
    t.match(run('rpm', ['-qp', '--scripts', mod]).stdout, 'usermod -a -G ja4 apache', 'Apache joins the ja4 group');
    // also when ja4-platform (and its group) comes in a later transaction
    t.match(run('rpm', ['-qp', '--triggers', mod]).stdout, /triggerin scriptlet \(using \/bin\/sh\) -- ja4-platform\n[\s\S]*usermod -a -G ja4 apache/, 'a trigger on ja4-platform adds Apache to ja4');
  });

  t.test('dependencies', async (t) => {
    const req = q(main, '-R');
    t.ok(req.includes('nodejs >= 1:20'), 'nodejs >= 1:20 (EL\'s nodejs has Epoch 1: ">= 20" took its Node 10 and 16)');
    t.ok(req.includes('libpcap'), 'libpcap');
    t.same(req.filter((r) => /onnxruntime|chdb|uws/.test(r)), [], 'none names a bundled module');
    t.same(q(main, '--provides').filter((p) => /\.so/.test(p)), [], 'offers none of the bundled libraries to other packages');
    t.ok(q(mod, '-R').includes('httpd'), 'mod_reqin_log requires httpd');
    const buildReq = q(srpm, '-R');
    for (const r of ['gcc-c++', 'make', 'cmake >= 3.16', 'nodejs >= 1:20', 'libpcap-devel', 'httpd-devel', 'openssl-devel >= 3']) t.ok(buildReq.includes(r), `BuildRequires ${r}`);
    t.same(q(srpm, '-l').sort(), ['ja4-platform-' + VERSION + '-node-modules.tar.gz', 'ja4-platform-' + VERSION + '.tar.gz', 'ja4-platform.spec'].sort(), 'the source RPM carries the sources and node_modules: no registry needed to rebuild');
  });

  t.test('installed into a scratch root', async (t) => {
    const root = scratchDir(t, 'ja4-rpmroot-');
    const inst = run('rpm', ['--root', root, '--nodeps', '--noscripts', '-i', main, mod]);
    t.equal(inst.status, 0, inst.stderr);
    t.same(lines(run('rpm', ['--root', root, '-qa', '--qf', '%{NAME}\n']).stdout).sort(), ['ja4-platform', 'mod_reqin_log']);
    t.equal(readFileSync(join(root, 'usr/bin/ja4'), 'utf8'), `#!/bin/sh\n# ja4-platform's command: the bundled CLI run by the system Node.js.\nexec /usr/bin/node ${APPDIR}/bin/ja4.js "$@"\n`);
    t.equal(statSync(join(root, 'etc/ja4/config.yaml')).mode & 0o777, 0o640);
    t.equal(readFileSync(join(root, 'etc/ja4/config.yaml'), 'utf8'), readFileSync(join(repoRoot, 'packaging/config/config.yaml'), 'utf8'));
    const app = join(root, APPDIR.slice(1));

    // The installed command, as installed: its dist/, its node_modules, its addon.
    const check = run(process.execPath, [join(app, 'bin/ja4.js'), 'config', 'check', join(root, 'etc/ja4/config.yaml')], { env: { PATH: process.env.PATH } });
    t.same({ status: check.status, out: check.stdout, err: check.stderr }, { status: 0, out: `${join(root, 'etc/ja4/config.yaml')}: OK (0 of ${OPTIONS.length} options set in the file)\n`, err: '' });
    const sample = join(repoRoot, 'samples/loopback-clients.pcapng');
    const packaged = run(process.execPath, [join(app, 'bin/ja4.js'), 'pcap', sample, '--json'], { env: { PATH: process.env.PATH } });
    t.equal(packaged.status, 0, packaged.stderr);
    const checkout = run(process.execPath, [join(repoRoot, 'bin/ja4.js'), 'pcap', sample, '--json']);
    t.ok(JSON.parse(packaged.stdout).length > 0, 'fingerprints from the packaged addon');
    t.equal(packaged.stdout, checkout.stdout, 'the same fingerprints as the checkout');
    // Every library requirement comes from our addon (the only ELF file
    // outside node_modules): its NEEDED sonames and the symbol versions it
    // references. uWebSockets.js, for one, would add glibc 2.34 on EL9.
    const addon = join(app, 'build/Release/ja4.node');
    const req = q(main, '-R');
    const needed = new Set([...run('objdump', ['-p', addon]).stdout.matchAll(/NEEDED\s+(\S+)/g)].map((m) => m[1]!));
    const versions = new Set([...run('objdump', ['-T', addon]).stdout.matchAll(/\(([A-Z_]+[0-9.]*)\)/g)].map((m) => m[1]!));
    if (needed.size === 0) t.comment('objdump unavailable: library requirements not traced');
    else {
      const foreign = req.filter((r) => {
        const m = /^([^()\s]+\.so[^()\s]*)(?:\(([^)]*)\))?\(64bit\)$/.exec(r);
        return m !== null && (!needed.has(m[1]!) || (m[2] !== undefined && m[2] !== '' && !versions.has(m[2])));
      });
      t.same(foreign, [], 'no library requirement from the bundled node_modules');
    }
    const migrations = run(process.execPath, ['-e', `import(${JSON.stringify(join(app, 'dist/storage/migrations.js'))}).then(m => console.log(m.DEFAULT_SQL_DIR))`]);
    t.equal(migrations.stdout.trim(), join(app, 'sql'), 'the storage layer finds the packaged sql/');

    const install = findApache();
    if (!install) {
      t.comment('Apache is not installed: no config test of the installed module');
      return;
    }
    const conf = readFileSync(join(root, 'etc/httpd/conf.d/reqin_log.conf'), 'utf8')
      .replace('#LoadModule reqin_log_module modules/mod_reqin_log.so', `LoadModule reqin_log_module ${join(root, 'usr/lib64/httpd/modules/mod_reqin_log.so')}`);
    const a = new Apache(install, { socketPath: join(root, 'run/ja4/http.socket'), loadModule: false, extra: conf });
    a.port = 65000; // -t binds nothing
    const r = a.configTest();
    a.cleanup();
    t.equal(r.status, 0, r.output);
    t.match(r.output, /Syntax OK/, 'Apache loads the packaged module with the packaged conf.d file');
  });
}
