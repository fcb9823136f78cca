// Reference CSV files: the CSV reader, validation with file:line:column
// messages, loading (replace, then reload the dictionaries) and
// `ja4 data load`.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { DEFAULT_REFERENCE_DIR, REFERENCE_SPECS, loadReferenceData, parseReferenceFile, readReferenceDir } from '../src/storage/index.js';
import { parseCsv } from '../src/storage/csv.js';
import { JA4_GO, openTestStorage, storageScratchDir, writeTestReferenceDir } from './helpers/storage-fixture.js';

async function ja4(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

const spec = (file: string) => REFERENCE_SPECS.find((s) => s.file === file)!;

t.test('the CSV reader', async (t) => {
  t.same(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n\n"multi\nline",\n'), [
    { line: 1, fields: ['a', 'b'] },
    { line: 2, fields: ['x, y', 'say "hi"'] },
    { line: 4, fields: ['multi\nline', ''] },
  ]);
  t.throws(() => parseCsv('a\n"open'), { line: 2, message: /unterminated/ });
  t.throws(() => parseCsv('"a"b,c'), { message: /after a closing quote/ });
});

t.test('the shipped defaults are valid', async (t) => {
  const files = readReferenceDir(DEFAULT_REFERENCE_DIR);
  t.same(files.map((f) => f.spec.file).sort(), REFERENCE_SPECS.map((s) => s.file).sort(), 'every known file ships');
  const mapping = files.find((f) => f.spec.file === 'ja4plus-mapping.csv')!;
  const go = mapping.rows.find((r) => r.fingerprint === 't13d190900_9dc949149365_97f8aa674fd9')!;
  t.equal(go.application, 'Sliver Agent', 'duplicate fingerprints merged, every label kept');
  t.equal(go.library, 'GoLang');
});

t.test('bad rows name the file, line and column', async (t) => {
  const dir = storageScratchDir(t);
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cases: [string, string, RegExp][] = [
    ['ip-to-asn.csv', 'network,asn,country_code,name,org,domain\n1.2.3.0/24,1,FR,a,b,c\n1.2.3.0/33,1,FR,a,b,c\n', /ip-to-asn\.csv:3: column "network": "1\.2\.3\.0\/33" has a bad prefix length/],
    ['ip-to-asn.csv', 'network,asn,country_code,name,org,domain\n1.2.3.0/24,ASx,FR,a,b,c\n', /:2: column "asn": "ASx" is not an unsigned 32-bit integer/],
    // an IPv6 zone index: Node's isIP() takes it, the engine does not (one
    // such row used to stop every insert through the enrichment view)
    ['bot-ip-prefixes.csv', 'prefix,bot_name,source\nfe80::1%eth0/64,EvilBot,test\n', /bot-ip-prefixes\.csv:2: column "prefix": "fe80::1%eth0\/64" is not an IP network/],
    ['crawler-rules.csv', 'name,action,user_agent_regex,path_regex,remote_addresses,asns,countries,weight\nr,DENY,x,,fe80::1%eth0,,,0\n', /:2: column "remote_addresses": "fe80::1%eth0" is not an IP network/],
    ['ip-to-asn.csv', 'network,asn,country,name,org,domain\n', /:1: header must have the columns network,asn,country_code,name,org,domain; missing: country_code; unknown: country/],
    ['ip-to-asn.csv', 'network,asn,country_code,name,org,domain\n1.2.3.0/24,1,FRA,a,b,c\n', /:2: column "country_code": "FRA" is not an ISO 3166-1/],
    ['bot-ja4.csv', 'ja4,bot_name,category,notes\nt13d_nope,x,library,\n', /bot-ja4\.csv:2: column "ja4": "t13d_nope" is not a JA4 fingerprint/],
    ['bot-ja4.csv', `ja4,bot_name,category,notes\n${JA4_GO},x\n`, /:2: 2 fields, the header has 4/],
    ['asn-reputation.csv', 'asn,label,score,notes\n1,hosting,2,\n', /:2: column "score": "2" is not a number between 0 and 1/],
    ['crawler-rules.csv', 'name,action,user_agent_regex,path_regex,remote_addresses,asns,countries,weight\nr,BLOCK,x,,,,,0\n', /:2: column "action": "BLOCK" is not one of ALLOW, DENY, CHALLENGE, WEIGH/],
    ['crawler-rules.csv', 'name,action,user_agent_regex,path_regex,remote_addresses,asns,countries,weight\nr,DENY,,,,,,0\n', /:2: column "name": rule "r" has no condition/],
    ['browser-ja4.csv', 'ja4,browser,notes\n"unterminated\n', /browser-ja4\.csv:2: CSV syntax: unterminated quoted field/],
  ];
  for (const [file, text, message] of cases) {
    const path = write(file, text);
    t.throws(() => parseReferenceFile(path, spec(file)), { code: 'ERR_REFERENCE_DATA', message }, `${file}: ${message.source.slice(0, 40)}`);
  }
  write('other.csv', 'a\n');
  t.throws(() => readReferenceDir(dir), { code: 'ERR_REFERENCE_DATA', message: /other\.csv: unknown reference file/ });
});

t.test('loading replaces the tables and reloads the dictionaries', async (t) => {
  const storage = await openTestStorage(t);
  const ref = writeTestReferenceDir(join(storageScratchDir(t), 'ref'));
  const loaded = await loadReferenceData(storage, ref);
  t.equal(loaded.length, 7);
  const asnOf = async (ip: string) => (await storage.query<{ a: number }>("SELECT dictGetOrDefault('ja4_processing.dict_ip_asn', 'asn', toIPv6({ip:String}), toUInt32(0)) AS a", { ip }))[0]!.a;
  t.equal(await asnOf('203.0.113.5'), 64500);
  // a second load with another network list replaces the first one entirely
  writeFileSync(join(ref, 'ip-to-asn.csv'), 'network,asn,country_code,name,org,domain\n192.0.2.0/24,64499,BE,DOC-AS,Doc,example.be\n');
  await loadReferenceData(storage, ref);
  t.same([await asnOf('203.0.113.5'), await asnOf('192.0.2.77')], [0, 64499], 'old networks gone, new one answers at once');
  // the engine's regex dialect decides: a lookbehind is valid JavaScript, not RE2
  writeFileSync(join(ref, 'crawler-rules.csv'), 'name,action,user_agent_regex,path_regex,remote_addresses,asns,countries,weight\nok,DENY,(?i)scanner,,,,,0\nlook,DENY,(?<=a)b,,,,,0\n');
  await t.rejects(loadReferenceData(storage, ref), { code: 'ERR_REFERENCE_DATA', message: /crawler-rules\.csv:3: column "user_agent_regex": the engine rejects the regular expression/ });
  t.equal(await asnOf('192.0.2.77'), 64499, 'a rejected load changed nothing');
});

t.test('ja4 data load', async (t) => {
  const dir = join(storageScratchDir(t), 'db');
  t.equal((await ja4(['db', 'migrate', '--db-dir', dir])).code, 0);
  const ok = await ja4(['data', 'load', '--db-dir', dir]);
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out, /^7 reference files loaded from .*data\/reference \(\d+ rows\)\n$/);
  t.match(ok.err, /ja4plus-mapping\.csv: \d+ rows -> ja4_processing\.ref_ja4plus_mapping/);
  const badDir = storageScratchDir(t);
  writeFileSync(join(badDir, 'bot-ip-prefixes.csv'), 'prefix,bot_name,source\n10.0.0.0/8,x,y\nnot-an-ip,x,y\n');
  const bad = await ja4(['data', 'load', badDir, '--db-dir', dir]);
  t.equal(bad.code, 2);
  t.match(bad.err, /^ja4 data load: .*bot-ip-prefixes\.csv:3: column "prefix": "not-an-ip" is not an IP network.*\[ERR_REFERENCE_DATA\]\n$/);
  t.match((await ja4(['data', '--help'])).out, /ip-to-asn\.csv\s+network,asn,country_code,name,org,domain/);
});
