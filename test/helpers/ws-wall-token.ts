// The wall token's transport on /ws and /api, checked the same way on uWS
// and on its `ws` fallback: never in a URL (proxies and Apache log URLs),
// offered on /ws as the subprotocol `ja4.token.<token>` next to `ja4.v1`,
// answered with `ja4.v1` only (the token never echoed), as a Bearer header
// on /api.
import type { Test } from 'tap';
import WebSocket from 'ws';
import { WS_CLOSE_UNAUTHORIZED, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from '../../src/dashboard/api-types.js';
import type { Dashboard } from '../../src/dashboard/server.js';
import { api } from './dashboard-fixture.js';
import { WsTestClient } from './ws-test-client.js';

/** Opens /ws offering `protocols`; the Sec-WebSocket-Protocol answered ('' for none) and the hello, or the close. */
async function open(d: Dashboard, protocols: string[], query = ''): Promise<{ answered: string | undefined; hello?: any; closed?: { code: number; reason: string } }> {
  const ws = new WebSocket(`${d.url.replace('http:', 'ws:')}/ws${query}`, protocols, { headers: { origin: d.url } });
  let answered: string | undefined;
  ws.on('upgrade', (res) => (answered = (res.headers['sec-websocket-protocol'] as string | undefined) ?? ''));
  const c = new WsTestClient(ws);
  const first = await Promise.race([c.next((m) => m.type === 'hello').then((hello) => ({ hello })), c.closed.then((closed) => ({ closed }))]);
  if ('hello' in first) await c.close();
  return { answered, ...first };
}

export async function checkWallTokenTransport(t: Test, d: Dashboard, token: string, name: string): Promise<void> {
  const inUrl = await open(d, [], `?token=${token}`);
  t.same(inUrl.closed, { code: WS_CLOSE_UNAUTHORIZED, reason: 'unauthorized' }, '/ws?token= is refused (4001)');
  const offered = await open(d, [`${WS_TOKEN_PROTOCOL_PREFIX}${token}`, WS_PROTOCOL]);
  t.match(offered.hello, { type: 'hello', user: { name: `token:${name}`, role: 'viewer' } }, 'the token offered as a subprotocol is accepted');
  t.equal(offered.answered, WS_PROTOCOL, 'the server answers ja4.v1, never the token entry (offered first here)');
  const wrong = await open(d, [`${WS_TOKEN_PROTOCOL_PREFIX}ja4w_wrong`, WS_PROTOCOL]);
  t.same(wrong.closed, { code: WS_CLOSE_UNAUTHORIZED, reason: 'unauthorized' }, 'a wrong token: 4001');
  t.equal((await api(d, `/api/overview?token=${token}`)).status, 401, '/api?token= is refused');
  t.equal((await api(d, '/api/overview', { headers: { authorization: `Bearer ${token}` } })).status, 200, '/api with Bearer is accepted');
}
