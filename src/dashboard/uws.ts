// Loads uWebSockets.js (@trufflesuite/uws-js-unofficial). The package picks
// a prebuilt binary for this platform and Node ABI; when none fits it
// prints a warning and returns its pure-JS fallback built on `ws` (slower,
// same API). We tell which one we got, so the server can say it at startup,
// and complete the fallback (uws-fallback.ts) so that it keeps working.
// UWS_USE_FALLBACK=1 (read by the package) forces the fallback: tests use it.
import { createRequire } from 'node:module';
import type * as Uws from '@trufflesuite/uws-js-unofficial';
import { completeFallback } from './uws-fallback.js';

const require = createRequire(import.meta.url);
const PACKAGE = '@trufflesuite/uws-js-unofficial';

export type UwsModule = typeof Uws;
export type ServerKind = 'uws' | 'ws-fallback';

let loaded: { uws: UwsModule; kind: ServerKind } | undefined;

/**
 * The module and its kind. The native binary is the one the package's
 * loader requires by path (binaries/uws_<platform>_<arch>_<abi>.node);
 * finding that path in require's cache is how we know it did not fall back.
 */
export function loadUws(): { uws: UwsModule; kind: ServerKind } {
  if (loaded) return loaded;
  const uws = require(PACKAGE) as UwsModule;
  const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const native = Object.keys(require.cache).some((p) => p.endsWith(binary));
  loaded = native ? { uws, kind: 'uws' } : { uws: completeFallback(uws), kind: 'ws-fallback' };
  return loaded;
}
