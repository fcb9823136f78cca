// The wall screen's read-only token. It comes in the URL's fragment
// (`/wall#token=...`): browsers never send a fragment to a server, so the
// token stays out of proxy logs, access logs (Apache's own http_logs when it
// fronts the dashboard) and Referer headers. It is read once, then taken out
// of the address bar (and so out of the history) and kept for this tab in
// sessionStorage, so that a reload of the wall keeps it running; a new tab or
// browser needs the link again. The API gets it as `Authorization: Bearer`,
// the WebSocket as a subprotocol (api/client.ts, api/live-feed.ts).

const KEY = 'ja4.wall_token';

/** The parts of window this module uses (tests pass their own). */
export interface WallTokenEnv {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>;
  history: Pick<History, 'state' | 'replaceState'>;
  /** undefined when the browser refuses storage (private modes, policies) */
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined;
}

function browserEnv(): WallTokenEnv {
  let storage: WallTokenEnv['storage'];
  try {
    storage = window.sessionStorage;
  } catch {
    storage = undefined;
  }
  return { location: window.location, history: window.history, storage };
}

/** The token of `#token=...` (then removed from the address bar), else the one this tab kept. */
export function takeWallToken(env: WallTokenEnv = browserEnv()): string | undefined {
  const fromHash = new URLSearchParams(env.location.hash.replace(/^#/, '')).get('token');
  if (fromHash !== null && fromHash !== '') {
    env.history.replaceState(env.history.state, '', env.location.pathname + env.location.search);
    try {
      env.storage?.setItem(KEY, fromHash);
    } catch {
      // storage full or refused: the wall works until the next reload
    }
    return fromHash;
  }
  try {
    return env.storage?.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Forgets this tab's token (it was refused: the next visit needs the link again). */
export function forgetWallToken(env: WallTokenEnv = browserEnv()): void {
  try {
    env.storage?.removeItem(KEY);
  } catch {
    // nothing kept
  }
}
