// The dashboard's browser modules that need no DOM, run in Node: the URL
// space (deep links with IPv6 addresses and dotted IPv4s, malformed
// escapes), the timeline gap filling, and the display formats.
import t from 'tap';
import { links, matchRoute } from '../web/src/router/routes.js';
import { fillBuckets } from '../web/src/charts/fill-buckets.js';
import { fmtBucket, fmtDuration, fmtInt, fmtShare, fmtTime, shortLabel } from '../web/src/format.js';
import { forgetWallToken, takeWallToken, type WallTokenEnv } from '../web/src/api/wall-token.js';
import { pagePatch, windowRange } from '../web/src/router/time-window.js';

t.test('time window: still while paging, live on the first page', async (t) => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  const q = (s: string): URLSearchParams => new URLSearchParams(s);
  t.same(windowRange(q(''), 24, now), { from: '2026-11-21T12:00:00.000Z', to: '2026-11-22T12:00:00.000Z' }, 'the last 24 h');
  // turning to page 2 pins the end; the next page keeps it
  const p2 = pagePatch(q(''), 'offset', 50, now);
  t.same(p2, { offset: '50', until: String(now) });
  const at2 = q(`offset=50&until=${now}`);
  t.same(pagePatch(at2, 'offset', 100, now + 60_000), { offset: '100' }, 'page 3: the same end');
  t.equal(windowRange(at2, 24, now + 60_000).to, '2026-11-22T12:00:00.000Z', 'a minute later the window has not moved');
  // back to the first page: live again
  t.same(pagePatch(at2, 'offset', 0, now + 60_000), { offset: undefined, until: undefined });
  t.equal(windowRange(q(`until=${now}`), 24, now + 60_000).to, '2026-11-22T12:01:00.000Z', 'an until without paging is ignored');
  // another list of the page still paged: the end stays
  t.same(pagePatch(q(`offset=50&scores_offset=20&until=${now}`), 'offset', 0, now + 1), { offset: undefined }, 'scores_offset still pages');
  t.equal(windowRange(q('offset=50&until=abc'), 1, now).to, '2026-11-22T12:00:00.000Z', 'a bad until: now');
  t.equal(windowRange(q(`offset=50&until=${now + 5000}`), 1, now).to, '2026-11-22T12:00:00.000Z', 'an until in the future: now');
});

t.test('routes: every page, decoded parameters, round trips', async (t) => {
  t.same(
    ['/', '/login', '/detections', '/campaigns', '/logs', '/model', '/pipeline', '/audit', '/users', '/wall'].map((p) => matchRoute(p).page),
    ['overview', 'login', 'detections', 'campaigns', 'logs', 'model', 'pipeline', 'audit', 'users', 'wall'],
  );
  const v6 = matchRoute(links.ip('2001:db8::5'));
  t.same([v6.page, v6.params], ['ip', { ip: '2001:db8::5' }], 'an IPv6 address survives the link');
  t.equal(links.ip('2001:db8::5'), '/ip/2001%3Adb8%3A%3A5');
  t.same(matchRoute('/ip/198.51.100.7').params, { ip: '198.51.100.7' }, 'a dotted IPv4 is a parameter, not a file');
  t.same(matchRoute('/ja4/t13d190900_9dc949149365_97f8aa674fd9/').params, { fingerprint: 't13d190900_9dc949149365_97f8aa674fd9' }, 'a trailing slash is the same page');
  t.same(matchRoute(links.cluster('cmp/1 x')).params, { id: 'cmp/1 x' }, 'a slash inside an id stays in the id');
  t.equal(matchRoute('/ip/%E0%A4%A').page, 'not-found', 'a malformed escape is no page, not an exception');
  t.equal(matchRoute('/ip/').page, 'not-found');
  t.equal(matchRoute('/ja4/a/b').page, 'not-found');
  t.equal(matchRoute('/detections', '?level=high&offset=50').query.get('offset'), '50', 'the query string is kept');
});

t.test('fillBuckets: zeros in the gaps, existing points untouched', async (t) => {
  const range = { from: '2026-11-22T00:30:00.000Z', to: '2026-11-22T04:10:00.000Z' };
  const points = [
    { bucket: '2026-11-22T01:00:00.000Z', n: 5 },
    { bucket: '2026-11-22T04:00:00.000Z', n: 7 },
  ];
  const filled = fillBuckets(points, range, 60, (bucket) => ({ bucket, n: 0 }));
  t.same(
    filled.map((p) => [p.bucket.slice(11, 16), p.n]),
    [
      ['00:00', 0],
      ['01:00', 5],
      ['02:00', 0],
      ['03:00', 0],
      ['04:00', 7],
    ],
    'the hour holding `from` up to the one before `to`',
  );
  t.equal(filled[1], points[0], 'the server rows themselves');
  const odd = [{ bucket: '2026-11-22T01:07:00.000Z', n: 1 }];
  t.same(
    fillBuckets(odd, range, 60, (bucket) => ({ bucket, n: 0 })).map((p) => p.n),
    [0, 0, 1, 0, 0, 0],
    'a point off the grid is kept, in time order',
  );
  t.equal(fillBuckets(points, range, 0, (bucket) => ({ bucket, n: 0 })).length, 2, 'a bucket size of 0 changes nothing');
  t.equal(fillBuckets(points, { from: range.from, to: '2027-11-22T00:00:00.000Z' }, 1, (bucket) => ({ bucket, n: 0 })).length, 2, 'more than 2000 buckets: left as it is');
});

t.test('formats', async (t) => {
  t.equal(fmtInt(1234567.4), '1,234,567');
  t.equal(fmtInt(undefined), '–');
  t.equal(fmtInt(Number.NaN), '–');
  t.equal(fmtShare(0.5966), '59.7 %');
  t.equal(fmtShare(0.5966, 0), '60 %');
  t.equal(fmtTime('2026-11-22 03:04:05.123'), '2026-11-22 03:04:05', "ClickHouse's zone-less text is UTC");
  t.equal(fmtTime('2026-11-22T03:04:05.000Z'), '2026-11-22 03:04:05');
  t.equal(fmtTime(''), '–');
  t.equal(fmtBucket('2026-11-22T03:00:00.000Z'), '03:00');
  t.equal(fmtBucket('2026-11-22T03:00:00.000Z', true), '11-22 03:00');
  t.same([fmtDuration(250), fmtDuration(59_700), fmtDuration(600_000), fmtDuration(5_400_000)], ['250 ms', '59.7 s', '10 min', '1.5 h']);
  t.equal(shortLabel('t13d190900_9dc949149365_97f8aa674fd9'), 't13d190900_9dc9…');
  t.equal(shortLabel('short'), 'short');
});

t.test('wall token: from the fragment, then out of the address bar, kept for the tab', async (t) => {
  const kept = new Map<string, string>();
  const replaced: string[] = [];
  const env = (hash: string): WallTokenEnv => ({
    location: { hash, pathname: '/wall', search: '?theme=dark' },
    history: { state: { s: 1 }, replaceState: (_state: unknown, _unused: string, url?: string | URL | null) => void replaced.push(String(url)) },
    storage: { getItem: (k) => kept.get(k) ?? null, setItem: (k, v) => void kept.set(k, v), removeItem: (k) => void kept.delete(k) },
  });
  t.equal(takeWallToken(env('#token=ja4w_abc-_1')), 'ja4w_abc-_1');
  t.same(replaced, ['/wall?theme=dark'], 'the address bar keeps the path and query, not the fragment');
  t.equal(takeWallToken(env('')), 'ja4w_abc-_1', 'a reload of the tab: the kept token');
  t.same(replaced, ['/wall?theme=dark'], 'nothing to remove then');
  t.equal(takeWallToken(env('#token=ja4w_new')), 'ja4w_new', 'a new link wins');
  forgetWallToken(env(''));
  t.equal(takeWallToken(env('')), undefined, 'forgotten after a refusal');
  t.equal(takeWallToken({ ...env('#token=ja4w_x'), storage: undefined }), 'ja4w_x', 'works without storage');
  t.equal(takeWallToken(env('#other=1')), undefined);
});
