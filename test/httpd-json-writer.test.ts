// mod_reqin_log's JSON string writer (native/httpd/json_writer.c, driven by
// json_writer_cli): control bytes, quotes and DEL escaped; well-formed UTF-8
// (RFC 3629 table) kept; every byte of an ill-formed sequence (overlongs,
// surrogates, > U+10FFFF, cut sequences, stray continuation bytes) becomes
// U+FFFD; the input cap never splits a character; the output cap keeps the
// string valid and says it was cut. Checked against a reference written
// here, on chosen cases and on random bytes.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureBuilt, jsonWriterCli } from './httpd/apache.js';

interface Unit {
  len: number; // input bytes
  text: string; // decoded
  out: number; // escaped output bytes
}

/** RFC 3629 section 4: length of the well-formed sequence at b[i], or 0. */
function seqLen(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let len: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c === 0xe0) lo = 0xa0;
    if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c === 0xf0) lo = 0x90;
    if (c === 0xf4) hi = 0x8f;
  } else return 0;
  if (i + len > b.length) return 0;
  if (b[i + 1]! < lo || b[i + 1]! > hi) return 0;
  for (let k = 2; k < len; k++) if (b[i + k]! < 0x80 || b[i + k]! > 0xbf) return 0;
  return len;
}

function units(b: Buffer): Unit[] {
  const out: Unit[] = [];
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c < 0x80) {
      const ch = String.fromCharCode(c);
      const esc = c === 0x22 || c === 0x5c || [8, 9, 10, 12, 13].includes(c) ? 2 : c < 0x20 || c === 0x7f ? 6 : 1;
      out.push({ len: 1, text: ch, out: esc });
      i++;
      continue;
    }
    const n = seqLen(b, i);
    if (n === 0) {
      out.push({ len: 1, text: '\ufffd', out: 6 });
      i++;
    } else {
      out.push({ len: n, text: b.subarray(i, i + n).toString('utf8'), out: n });
      i += n;
    }
  }
  return out;
}

/** What the writer must produce for input b, at most maxIn input bytes, in a writer of cap bytes. */
function reference(b: Buffer, maxIn: number, cap: number): { s: string; truncated: boolean } | null {
  if (cap < 2) return null;
  // the input cap: whole well-formed characters only (a cut one is left out)
  let use = Math.min(b.length, maxIn);
  if (use < b.length) {
    const full = units(b);
    let pos = 0;
    for (const u of full) {
      if (pos + u.len > use) {
        if (u.len > 1) use = pos; // a well-formed character straddling the cap
        break;
      }
      pos += u.len;
    }
  }
  let s = '';
  let consumed = 0;
  let room = cap - 2;
  for (const u of units(b.subarray(0, use))) {
    if (u.out > room) break;
    room -= u.out;
    s += u.text;
    consumed += u.len;
  }
  return { s, truncated: consumed < b.length };
}

function run(b: Buffer, maxIn: number, cap: number): { code: number; line: string } {
  const r = spawnSync(jsonWriterCli, [String(maxIn), String(cap)], { input: b, encoding: 'utf8' });
  return { code: r.status ?? -1, line: r.stdout.trim() };
}

function check(t: Test, name: string, b: Buffer, maxIn = 1 << 20, cap = 1 << 20): void {
  const want = reference(b, maxIn, cap);
  const got = run(b, maxIn, cap);
  if (want === null) {
    t.equal(got.code, 3, `${name}: nothing written when not even "" fits`);
    return;
  }
  let parsed: { s: string; truncated: number; len: number };
  try {
    parsed = JSON.parse(got.line);
  } catch {
    t.fail(`${name}: not JSON: ${got.line}`);
    return;
  }
  t.same({ s: parsed.s, truncated: parsed.truncated === 1 }, want, name);
  if (parsed.len > cap) t.fail(`${name}: ${parsed.len} bytes written in a writer of ${cap}`);
  if (/[\u0000-\u001f\u007f]/.test(got.line)) t.fail(`${name}: raw control byte in the output`);
}

ensureBuilt([jsonWriterCli]); // plain cc: needs no apxs

t.test('chosen cases', async (t) => {
  t.ok(existsSync(jsonWriterCli));
  check(t, 'plain ASCII', Buffer.from('GET /index.html?a=1&b=2'));
  check(t, 'quotes and backslashes', Buffer.from('say "hi" \\ there'));
  check(t, 'every C0 control and DEL', Buffer.from([...Array(32).keys(), 0x7f]));
  check(t, 'two-, three- and four-byte characters', Buffer.from('é € 😀 中文'));
  check(t, 'stray continuation bytes', Buffer.from([0x61, 0x80, 0xbf, 0x62]));
  check(t, 'overlong encodings', Buffer.from([0xc0, 0xaf, 0xc1, 0xbf, 0xe0, 0x80, 0xaf, 0xf0, 0x80, 0x80, 0xaf]));
  check(t, 'UTF-16 surrogates', Buffer.from([0xed, 0xa0, 0x80, 0xed, 0xbf, 0xbf]));
  check(t, 'above U+10FFFF and F5..FF', Buffer.from([0xf4, 0x90, 0x80, 0x80, 0xf5, 0x80, 0xfe, 0xff]));
  check(t, 'a sequence cut by the end of input', Buffer.from([0x41, 0xe2, 0x82]));
  check(t, 'a lead byte followed by ASCII', Buffer.from([0xc3, 0x28, 0xe2, 0x28, 0xa1]));
  check(t, 'empty', Buffer.alloc(0));
  check(t, 'input cap between characters', Buffer.from('abcdef'), 3);
  check(t, 'input cap inside a 3-byte character', Buffer.from('ab€€'), 6);
  check(t, 'input cap inside a 4-byte character', Buffer.from('a😀b'), 3);
  check(t, 'input cap after invalid bytes', Buffer.from([0x61, 0xff, 0xfe, 0x62]), 2);
  check(t, 'output cap on ASCII', Buffer.from('aaaa'), 100, 4);
  check(t, 'output cap on an escape', Buffer.from('a\u0001b'), 100, 7);
  check(t, 'output cap on a character', Buffer.from('a€'), 100, 5);
  check(t, 'output cap too small for ""', Buffer.from('a'), 100, 1);
  check(t, 'output cap exactly ""', Buffer.from('abc'), 100, 2);
});

t.test('a special byte at every offset of a long plain run (the 8-byte scan)', async (t) => {
  const specials: Array<[string, number[]]> = [['"', [0x22]], ['\\', [0x5c]], ['0x01', [0x01]], ['0x1f', [0x1f]], ['DEL', [0x7f]], ['0x80', [0x80]], ['é', [0xc3, 0xa9]], ['0xff', [0xff]]];
  let bad = 0;
  for (const [name, bytes] of specials) {
    for (let pos = 0; pos < 24; pos++) {
      const b = Buffer.concat([Buffer.alloc(pos, 'a'), Buffer.from(bytes), Buffer.alloc(30 - pos, 'z')]);
      const want = reference(b, 1 << 20, 1 << 20)!;
      const got = JSON.parse(run(b, 1 << 20, 1 << 20).line) as { s: string };
      if (got.s !== want.s) {
        bad++;
        t.fail(`${name} at ${pos}: ${JSON.stringify(got.s)}`);
      }
    }
  }
  t.equal(bad, 0, '8 special bytes x 24 offsets');
});

t.test('random bytes', async (t) => {
  // seeded, so that a failure can be replayed
  let seed = 0x5eed1234;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const pieces = [[0x22], [0x5c], [0x0a], [0x01], [0x7f], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0x80], [0xff], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xc0]];
  let failures = 0;
  const before = t.counts.fail;
  for (let i = 0; i < 300; i++) {
    const parts: number[] = [];
    const n = Math.floor(rnd() * 40);
    for (let k = 0; k < n; k++) {
      if (rnd() < 0.5) parts.push(0x20 + Math.floor(rnd() * 95));
      else if (rnd() < 0.5) parts.push(...pieces[Math.floor(rnd() * pieces.length)]!);
      else parts.push(Math.floor(rnd() * 256));
    }
    const b = Buffer.from(parts);
    const maxIn = rnd() < 0.5 ? 1 << 20 : Math.floor(rnd() * (b.length + 2));
    const cap = rnd() < 0.5 ? 1 << 20 : Math.floor(rnd() * (b.length * 3 + 4));
    const want = reference(b, maxIn, cap);
    const got = run(b, maxIn, cap);
    let ok: boolean;
    if (want === null) ok = got.code === 3;
    else {
      try {
        const p = JSON.parse(got.line);
        ok = p.s === want.s && (p.truncated === 1) === want.truncated && p.len <= cap && !/[\u0000-\u001f\u007f]/.test(got.line);
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      failures++;
      if (failures <= 5) t.fail(`input ${b.toString('hex')} max_in ${maxIn} cap ${cap}: got ${got.line} (${got.code}), want ${JSON.stringify(want)}`);
    }
  }
  t.equal(failures, 0, '300 random inputs match the reference');
  t.equal(t.counts.fail, before + Math.min(failures, 5));
});

t.test('lower case: ASCII letters only, on every path (plain runs, escapes, UTF-8, caps)', async (t) => {
  const lowerAscii = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const cases: Array<[string, Buffer, number, number]> = [
    ['short name', Buffer.from('Host'), 1 << 20, 1 << 20],
    ['8 bytes', Buffer.from('X-ABCDEF'), 1 << 20, 1 << 20],
    ['long name, overlapping last word', Buffer.from('Sec-CH-UA-Platform-Version'), 1 << 20, 1 << 20],
    ['punctuation next to the letter range', Buffer.from('@[`{AZaz^_~|'), 1 << 20, 1 << 20],
    ['escapes and UTF-8 between letters', Buffer.from('ÉA"B\u0001Cé€D'), 1 << 20, 1 << 20],
    ['input cap', Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), 20, 1 << 20],
    ['output cap', Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ'), 1 << 20, 12],
  ];
  for (const [name, b, maxIn, cap] of cases) {
    const want = reference(b, maxIn, cap)!;
    const r = spawnSync(jsonWriterCli, [String(maxIn), String(cap), 'lower'], { input: b, encoding: 'utf8' });
    const got = JSON.parse(r.stdout) as { s: string; truncated: number };
    t.same({ s: got.s, truncated: got.truncated === 1 }, { s: lowerAscii(want.s), truncated: want.truncated }, name);
  }
});

t.test('integers: every digit count, the split at 10^8, the limits, and the cap', async (t) => {
  const values: bigint[] = [0n, 1n, 9n];
  for (let p = 1n; p <= 10n ** 19n; p *= 10n) values.push(p - 1n, p, p + 1n);
  values.push(1795311323258400n, 18446744073709551615n, 123456789012345678n);
  let seed = 0x2545f491;
  for (let i = 0; i < 200; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const digits = 1 + (Math.abs(seed) % 20);
    values.push(BigInt.asUintN(64, BigInt(Math.abs(seed)) * 2654435761n * 97n ** BigInt(digits)) % 10n ** BigInt(digits));
  }
  const u = spawnSync(jsonWriterCli, ['--u64'], { input: values.map(String).join('\n') + '\n', encoding: 'utf8' });
  t.same(u.stdout.trim().split('\n'), values.map(String), `${values.length} unsigned values`);
  const signed = [-9223372036854775808n, -9223372036854775807n, -100000000n, -99999999n, -1n, 0n, 9223372036854775807n];
  const s = spawnSync(jsonWriterCli, ['--i64'], { input: signed.map(String).join('\n') + '\n', encoding: 'utf8' });
  t.same(s.stdout.trim().split('\n'), signed.map(String), 'signed values');
  const capped = spawnSync(jsonWriterCli, ['--u64', '3'], { input: '999\n1000\n', encoding: 'utf8' });
  t.same(capped.stdout.trim().split('\n'), ['999', '-'], 'all or nothing when the digits do not fit');
});
