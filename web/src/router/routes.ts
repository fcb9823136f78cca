// The dashboard's URL space (the server answers these paths with index.html:
// SPA_PATHS in src/dashboard/api-types.ts). Every page has a deep link; path parameters
// are decoded here so pages receive plain strings (a JA4, an IPv6 address).
// Kept free of DOM code so the matching is the same in every caller.

import type { Role } from '../../../src/dashboard/api-types.js';

export type PageName =
  | 'overview'
  | 'login'
  | 'detections'
  | 'ja4'
  | 'ip'
  | 'campaigns'
  | 'cluster'
  | 'logs'
  | 'model'
  | 'pipeline'
  | 'audit'
  | 'users'
  | 'wall'
  | 'not-found';

export interface Route {
  page: PageName;
  /** decoded path parameters (`fingerprint`, `ip`, `id`) */
  params: Record<string, string>;
  /** the query string, for filters and pagination kept in the URL */
  query: URLSearchParams;
  path: string;
}

interface RouteDef {
  page: PageName;
  pattern: RegExp;
  keys: string[];
}

function def(page: PageName, path: string): RouteDef {
  const keys: string[] = [];
  const source = path.replace(/:([a-z]+)/g, (_m, key: string) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { page, pattern: new RegExp(`^${source}/?$`), keys };
}

const ROUTES: readonly RouteDef[] = [
  def('overview', '/'),
  def('login', '/login'),
  def('detections', '/detections'),
  def('ja4', '/ja4/:fingerprint'),
  def('ip', '/ip/:ip'),
  def('campaigns', '/campaigns'),
  def('cluster', '/cluster/:id'),
  def('logs', '/logs'),
  def('model', '/model'),
  def('pipeline', '/pipeline'),
  def('audit', '/audit'),
  def('users', '/users'),
  def('wall', '/wall'),
];

/** Pages that need more than the viewer role (the API enforces it too). */
export const PAGE_ROLES: Partial<Record<PageName, Role>> = { audit: 'analyst', users: 'admin' };

/** Pages shown in the navigation, in order, with their labels. */
export const NAV: readonly { page: PageName; path: string; label: string; minRole?: Role }[] = [
  { page: 'overview', path: '/', label: 'Overview' },
  { page: 'detections', path: '/detections', label: 'Detections' },
  { page: 'campaigns', path: '/campaigns', label: 'Campaigns' },
  { page: 'logs', path: '/logs', label: 'HTTP logs' },
  { page: 'model', path: '/model', label: 'Model' },
  { page: 'pipeline', path: '/pipeline', label: 'Pipeline' },
  { page: 'audit', path: '/audit', label: 'Audit trail', minRole: PAGE_ROLES.audit },
  { page: 'users', path: '/users', label: 'Users', minRole: PAGE_ROLES.users },
  { page: 'wall', path: '/wall', label: 'Wall' },
];

export function matchRoute(pathname: string, search = ''): Route {
  const query = new URLSearchParams(search);
  for (const r of ROUTES) {
    const m = r.pattern.exec(pathname);
    if (m === null) continue;
    const params: Record<string, string> = {};
    let ok = true;
    r.keys.forEach((key, i) => {
      try {
        params[key] = decodeURIComponent(m[i + 1] ?? '');
      } catch {
        ok = false; // a malformed %-escape: no such page
      }
    });
    if (ok) return { page: r.page, params, query, path: pathname };
  }
  return { page: 'not-found', params: {}, query, path: pathname };
}

/** Deep links to the investigation pages, escaped once here. */
export const links = {
  ja4: (fingerprint: string): string => `/ja4/${encodeURIComponent(fingerprint)}`,
  ip: (ip: string): string => `/ip/${encodeURIComponent(ip)}`,
  cluster: (id: string): string => `/cluster/${encodeURIComponent(id)}`,
};
