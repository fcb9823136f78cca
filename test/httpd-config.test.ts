// mod_reqin_log's directives under `apache2 -t`: a valid configuration
// passes; each bad value stops the config test with a message naming the
// directive and what is wrong; the help texts are registered.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Apache, ensureBuilt, findApache, scratch } from './httpd/apache.js';

const install = findApache();

const VALID = `
ReqinLog On
ReqinLogSocket /run/ja4/http.socket seqpacket
ReqinLogHeaders User-Agent Accept Sec-Fetch-* X-Forwarded-For
ReqinLogMaxFieldLength 1024
ReqinLogMaxRecordSize 8192
ReqinLogSendBuffer 262144
ReqinLogFlushInterval 0
ReqinLogExclude /health
ReqinLogExclude ~ ^/(ready|live)z$
ReqinLogSample 1
<Location /api>
  ReqinLogHeaders +Content-Type
  ReqinLogSample 0.25
  ReqinLogMaxFieldLength 256
</Location>
<Location /status>
  ReqinLog Off
</Location>
<Location /quiet>
  ReqinLogHeaders  none
</Location>
`;

const BAD: Array<[string, string, RegExp]> = [
  ['a field cap below the minimum', 'ReqinLogMaxFieldLength 10', /ReqinLogMaxFieldLength: "10" is not a number of bytes from 16 to 65536/],
  ['a field cap that is not a number', 'ReqinLogMaxFieldLength 2k', /ReqinLogMaxFieldLength: "2k" is not a number/],
  ['a record cap above the maximum', 'ReqinLogMaxRecordSize 1000000', /ReqinLogMaxRecordSize: "1000000" is not a number of bytes from 1024 to 65536/],
  ['a flush interval above 1 s', 'ReqinLogFlushInterval 5000', /ReqinLogFlushInterval: "5000" is not a number of milliseconds from 0 to 1000/],
  ['a send buffer that is not a number', 'ReqinLogSendBuffer lots', /ReqinLogSendBuffer: "lots" is not a number of bytes/],
  ['a relative socket path', 'ReqinLogSocket run/ja4.sock', /ReqinLogSocket: "run\/ja4.sock" is not an absolute path/],
  ['a socket path too long for sun_path', `ReqinLogSocket /${'d'.repeat(120)}`, /ReqinLogSocket: .* is longer than a UNIX socket path may be \(107 bytes\)/],
  ['an unknown socket type', 'ReqinLogSocket /run/x.sock stream', /ReqinLogSocket: socket type must be seqpacket or dgram, not "stream"/],
  ['ReqinLogSocket in a <Location>', '<Location /x>\n  ReqinLogSocket /run/x.sock\n</Location>', /ReqinLogSocket not allowed in <Location> context/],
  ['ReqinLogMaxRecordSize in a <Location>', '<Location /x>\n  ReqinLogMaxRecordSize 2048\n</Location>', /ReqinLogMaxRecordSize not allowed in <Location> context/],
  ['Cookie among the logged values', 'ReqinLogHeaders User-Agent Cookie', /ReqinLogHeaders: Cookie values are never logged/],
  ['Authorization among the logged values', 'ReqinLogHeaders Authorization', /ReqinLogHeaders: Authorization holds credentials and is never logged/],
  ['none beside a name (the name was silently dropped)', 'ReqinLogHeaders X-A none', /ReqinLogHeaders: none turns header values off and stands alone/],
  ['none after +names (the defaults were silently dropped)', 'ReqinLogHeaders +X-A none', /ReqinLogHeaders: none turns header values off and stands alone/],
  ['none before a name', 'ReqinLogHeaders none X-A', /ReqinLogHeaders: none turns header values off and stands alone/],
  ['a header name with a space', 'ReqinLogHeaders "X Bad"', /ReqinLogHeaders: "X Bad" is not a header name/],
  ['a * not at the end', 'ReqinLogHeaders X-*-Y', /ReqinLogHeaders: "X-\*-Y" is not a header name/],
  ['names mixed with +names', 'ReqinLogHeaders User-Agent +X-Extra', /ReqinLogHeaders: either list the names to log, or only names with \+/],
  ['a bad regular expression', 'ReqinLogExclude ~ ^/(health', /ReqinLogExclude: "\^\/\(health" is not a valid regular expression/],
  ['an exclusion that is not a path', 'ReqinLogExclude health', /ReqinLogExclude: "health" is not a path prefix \(it must start with \//],
  ['~ without a regex', 'ReqinLogExclude ~', /ReqinLogExclude: "~" must be followed by a regular expression/],
  ['a sample rate of 0', 'ReqinLogSample 0', /ReqinLogSample: "0" is not a fraction of requests greater than 0 and at most 1/],
  ['a sample rate above 1', 'ReqinLogSample 1.5', /ReqinLogSample: "1.5" is not a fraction/],
  ['a sample rate that is not a number', 'ReqinLogSample half', /ReqinLogSample: "half" is not a fraction/],
  ['ReqinLog neither On nor Off', 'ReqinLog maybe', /ReqinLog must be On or Off/],
];

if (!install) {
  t.test('mod_reqin_log config test', { skip: 'apache2 is not installed (scripts/setup.sh installs it)' }, () => {});
} else {
  ensureBuilt();
  const dir = scratch('conftest');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const configTest = (extra: string) => {
    const a = new Apache(install, { socketPath: `${dir}/http.socket`, extra });
    a.port = 65000; // -t binds nothing
    const r = a.configTest();
    a.cleanup();
    return r;
  };

  t.test('a valid configuration passes', async (t) => {
    const r = configTest(VALID);
    t.equal(r.status, 0, r.output);
    t.match(r.output, /Syntax OK/);
  });

  for (const [what, extra, message] of BAD) {
    t.test(`rejected: ${what}`, async (t) => {
      const r = configTest(extra);
      t.not(r.status, 0, 'apache2 -t fails');
      t.match(r.output, message);
      t.match(r.output, /Syntax error on line \d+ of .*httpd\.conf/, 'with the line');
    });
  }

  t.test('help texts are registered with the directives', async (t) => {
    // apache2 -L lists every directive of the loaded modules with its help text
    const a = new Apache(install, { socketPath: `${dir}/http.socket` });
    a.port = 65000;
    a.configTest();
    const r = spawnSync(install.bin, ['-L', '-f', a.confPath], { encoding: 'utf8' });
    a.cleanup();
    t.equal(r.status, 0, r.stderr);
    for (const d of ['ReqinLog', 'ReqinLogSocket', 'ReqinLogHeaders', 'ReqinLogMaxFieldLength', 'ReqinLogMaxRecordSize', 'ReqinLogSendBuffer', 'ReqinLogFlushInterval', 'ReqinLogExclude', 'ReqinLogSample']) {
      t.match(r.stdout, new RegExp(`^${d} \\([^\\n]*\\n\\t\\S`, 'm'), `${d} has a help text`);
    }
    t.match(r.stdout, /ReqinLogSocket[^\n]*\n\tabsolute path of the receiver's UNIX socket/);
  });
}
