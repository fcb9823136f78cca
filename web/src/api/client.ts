// The API client: JSON over fetch with the session cookie, the CSRF header
// on every mutation, a wall token when the page has one, and errors turned
// into ApiRequestError carrying the server's code and field. A 401 tells the
// shell (ja4-unauthorized) so it can send the user to the login page.
import type { ApiError, ApiErrorCode, LoginRequest, MeResponse, SessionInfo } from '../../../src/dashboard/api-types.js';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | 'network',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export type QueryValue = string | number | boolean | undefined | null;

/** `/api/x` + the defined query values, escaped. */
export function apiUrl(path: string, query: Record<string, QueryValue> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Path parameters are escaped once, here. */
export const enc = encodeURIComponent;

export class ApiClient extends EventTarget {
  #session: SessionInfo | null = null;
  #wallToken: string | undefined;

  get session(): SessionInfo | null {
    return this.#session;
  }

  /** read-only wall screens authenticate with a token instead of a cookie */
  set wallToken(token: string | undefined) {
    this.#wallToken = token;
  }
  get wallToken(): string | undefined {
    return this.#wallToken;
  }

  async get<T>(path: string, query: Record<string, QueryValue> = {}, signal?: AbortSignal): Promise<T> {
    return this.#send<T>('GET', apiUrl(path, query), undefined, signal);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.#send<T>('POST', path, body);
  }

  async patch<T>(path: string, body: unknown): Promise<T> {
    return this.#send<T>('PATCH', path, body);
  }

  async delete<T>(path: string): Promise<T> {
    return this.#send<T>('DELETE', path);
  }

  /** The current session from the cookie, or null when there is none. */
  async restore(): Promise<SessionInfo | null> {
    try {
      this.#setSession(await this.#send<MeResponse>('GET', '/api/auth/me', undefined, undefined, false));
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 401) this.#setSession(null);
      else throw err;
    }
    return this.#session;
  }

  async login(req: LoginRequest): Promise<SessionInfo> {
    const session = await this.#send<SessionInfo>('POST', '/api/auth/login', req, undefined, false);
    this.#setSession(session);
    return session;
  }

  async logout(): Promise<void> {
    try {
      await this.post('/api/auth/logout', {});
    } finally {
      this.#setSession(null);
    }
  }

  #setSession(s: SessionInfo | null): void {
    this.#session = s;
    this.dispatchEvent(new CustomEvent<SessionInfo | null>('session', { detail: s }));
  }

  async #send<T>(method: string, url: string, body?: unknown, signal?: AbortSignal, announce401 = true): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.#session?.csrf_token) headers['x-csrf-token'] = this.#session.csrf_token;
    if (this.#wallToken !== undefined) headers.authorization = `Bearer ${this.#wallToken}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiRequestError(0, 'network', `the server did not answer (${(err as Error).message})`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as ApiError | undefined)?.error;
      const err = new ApiRequestError(res.status, e?.code ?? 'internal', e?.message ?? `${method} ${url}: HTTP ${res.status}`, e?.field);
      if (res.status === 401 && announce401) {
        this.#setSession(null);
        this.dispatchEvent(new CustomEvent('unauthorized'));
      }
      throw err;
    }
    return json as T;
  }
}

export const api = new ApiClient();
