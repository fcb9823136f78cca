// Dashboard users and wall tokens in the database (sql/0013). Each change
// is a new row (ReplacingMergeTree on updated_at, read with FINAL); a
// removal is a row with deleted = 1. Password hashes never leave this
// module except for verification.
import { createHash, randomBytes } from 'node:crypto';
import type { Storage } from '../../storage/index.js';
import type { Role, UserInfo } from '../api-types.js';
import { ROLES } from '../api-types.js';
import { DEFAULT_SCRYPT_COST, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hashPassword } from './password.js';

export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export class UserStoreError extends Error {
  override readonly name = 'UserStoreError';
  constructor(
    readonly code: 'ERR_USER_EXISTS' | 'ERR_USER_NOT_FOUND' | 'ERR_USER_INPUT',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A change read and validated, not yet written: `before` and `after` are what its audit row says. */
export interface PlannedChange<B, A, R> {
  before: B;
  after: A;
  apply(): Promise<R>;
}

export interface StoredUser extends UserInfo {
  password_hash: string;
}

export function validateUserName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !USER_NAME_PATTERN.test(name)) {
    throw new UserStoreError('ERR_USER_INPUT', `${field} must be 1 to 64 characters of A-Z a-z 0-9 . _ @ - (starting with a letter or digit), got ${JSON.stringify(name)}`, field);
  }
  return name;
}

export function validateRole(role: unknown, field = 'role'): Role {
  if (typeof role !== 'string' || !ROLES.includes(role as Role)) throw new UserStoreError('ERR_USER_INPUT', `${field} must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`, field);
  return role as Role;
}

export function validatePassword(password: unknown, field = 'password'): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new UserStoreError('ERR_USER_INPUT', `${field} must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`, field);
  }
  return password;
}

const SETTINGS = { date_time_output_format: 'iso' } as const;
/** rows carry ISO times read back from the table, or epoch milliseconds */
const WRITE = { date_time_input_format: 'best_effort' } as const;

export class UserStore {
  constructor(
    private readonly storage: Storage,
    /** scrypt cost of new hashes (tests lower it) */
    private readonly scryptCost = DEFAULT_SCRYPT_COST,
  ) {}

  private get users(): string {
    return this.storage.tables.read('dashboardUsers');
  }

  async get(name: string): Promise<StoredUser | undefined> {
    const rows = await this.storage.query<StoredUser>(
      `SELECT name, role, password_hash, created_at, updated_at FROM ${this.users} FINAL WHERE name = {name:String} AND deleted = 0`,
      { name },
      SETTINGS,
    );
    return rows[0];
  }

  async list(): Promise<UserInfo[]> {
    return this.storage.query<UserInfo>(`SELECT name, role, created_at, updated_at FROM ${this.users} FINAL WHERE deleted = 0 ORDER BY name`, {}, SETTINGS);
  }

  private async write(row: { name: string; role: Role; password_hash: string; created_at: string; deleted: 0 | 1 }): Promise<void> {
    await this.storage.insertRows(this.storage.tables.write('dashboardUsers'), [{ ...row, updated_at: Date.now() }], WRITE);
  }

  // Each change comes as a plan: the current state read and the input
  // validated, nothing written; apply() writes it. Callers write the audit
  // row between the two (dashboard/audit.ts auditedChange): no change
  // without its row, and no row for input refused before any change.

  async planAdd(name: string, role: Role, password: string): Promise<PlannedChange<null, { name: string; role: Role }, UserInfo>> {
    validateUserName(name);
    validateRole(role);
    validatePassword(password);
    if (await this.get(name)) throw new UserStoreError('ERR_USER_EXISTS', `user "${name}" already exists`, 'name');
    const password_hash = await hashPassword(password, this.scryptCost);
    return {
      before: null,
      after: { name, role },
      apply: async () => {
        await this.write({ name, role, password_hash, created_at: new Date().toISOString(), deleted: 0 });
        return publicUser((await this.get(name))!);
      },
    };
  }

  async add(name: string, role: Role, password: string): Promise<UserInfo> {
    return (await this.planAdd(name, role, password)).apply();
  }

  /** A change of the role and/or the password; apply() returns the state before and after. */
  async planUpdate(
    name: string,
    change: { role?: Role; password?: string },
  ): Promise<PlannedChange<{ name: string; role: Role }, { name: string; role: Role }, { before: UserInfo; after: UserInfo }>> {
    const current = await this.get(name);
    if (!current) throw new UserStoreError('ERR_USER_NOT_FOUND', `user "${name}" does not exist`, 'name');
    if (change.role !== undefined) validateRole(change.role);
    if (change.password !== undefined) validatePassword(change.password);
    const password_hash = change.password !== undefined ? await hashPassword(change.password, this.scryptCost) : current.password_hash;
    const role = change.role ?? current.role;
    return {
      before: { name, role: current.role },
      after: { name, role },
      apply: async () => {
        // the version must grow even within the same millisecond
        await new Promise((r) => setTimeout(r, 2));
        await this.write({ name, role, password_hash, created_at: current.created_at, deleted: 0 });
        return { before: publicUser(current), after: publicUser((await this.get(name))!) };
      },
    };
  }

  /** Changes the role and/or the password; returns the state before and after. */
  async update(name: string, change: { role?: Role; password?: string }): Promise<{ before: UserInfo; after: UserInfo }> {
    return (await this.planUpdate(name, change)).apply();
  }

  async planRemove(name: string): Promise<PlannedChange<{ name: string; role: Role }, null, UserInfo>> {
    const current = await this.get(name);
    if (!current) throw new UserStoreError('ERR_USER_NOT_FOUND', `user "${name}" does not exist`, 'name');
    return {
      before: { name, role: current.role },
      after: null,
      apply: async () => {
        await new Promise((r) => setTimeout(r, 2));
        await this.write({ name, role: current.role, password_hash: '', created_at: current.created_at, deleted: 1 });
        return publicUser(current);
      },
    };
  }

  async remove(name: string): Promise<UserInfo> {
    return (await this.planRemove(name)).apply();
  }

  // ------------------------------------------------------------ wall tokens

  /** A new read-only token; apply() stores its hash and returns the token, shown once. */
  async planToken(name: string): Promise<PlannedChange<null, { token_id: string; name: string; role: Role }, { token: string; token_id: string }>> {
    validateUserName(name, 'token name');
    const token = `ja4w_${randomBytes(24).toString('base64url')}`;
    const token_id = token.slice(0, 12);
    return {
      before: null,
      after: { token_id, name, role: 'viewer' },
      apply: async () => {
        const now = Date.now();
        await this.storage.insertRows(this.storage.tables.write('dashboardTokens'), [
          { token_id, name, role: 'viewer', token_sha256: sha256(token), created_at: now, updated_at: now, revoked: 0 },
        ]);
        return { token, token_id };
      },
    };
  }

  async createToken(name: string): Promise<{ token: string; token_id: string }> {
    return (await this.planToken(name)).apply();
  }

  async listTokens(): Promise<{ token_id: string; name: string; role: Role; created_at: string }[]> {
    return this.storage.query(`SELECT token_id, name, role, created_at FROM ${this.storage.tables.read('dashboardTokens')} FINAL WHERE revoked = 0 ORDER BY created_at`, {}, SETTINGS);
  }

  /** The revocation of a valid token; undefined when no valid token has this id. */
  async planRevoke(tokenId: string): Promise<PlannedChange<{ token_id: string }, null, void> | undefined> {
    const rows = await this.storage.query<{ token_id: string; name: string; role: string; token_sha256: string; created_at: string }>(
      `SELECT token_id, name, role, token_sha256, created_at FROM ${this.storage.tables.read('dashboardTokens')} FINAL WHERE token_id = {id:String} AND revoked = 0`,
      { id: tokenId },
      SETTINGS,
    );
    const t = rows[0];
    if (!t) return undefined;
    return {
      before: { token_id: t.token_id },
      after: null,
      apply: async () => {
        await this.storage.insertRows(this.storage.tables.write('dashboardTokens'), [{ ...t, updated_at: Date.now() + 1, revoked: 1 }], WRITE);
      },
    };
  }

  async revokeToken(tokenId: string): Promise<boolean> {
    const plan = await this.planRevoke(tokenId);
    await plan?.apply();
    return plan !== undefined;
  }

  /**
   * Every live user's role and a credential stamp (a digest of the password
   * hash: it changes with the password, and is not the hash). The server
   * re-checks its sessions against it: with a ClickHouse server, `ja4 user`
   * changes users from another process.
   */
  async sessionStates(): Promise<Map<string, UserSessionState>> {
    const rows = await this.storage.query<{ name: string; role: Role; password_hash: string }>(`SELECT name, role, password_hash FROM ${this.users} FINAL WHERE deleted = 0`);
    return new Map(rows.map((r) => [r.name, { role: r.role, credential: credentialStamp(r.password_hash) }]));
  }

  /** The valid tokens' hashes (the server caches them). */
  async tokenHashes(): Promise<Map<string, { name: string; role: Role }>> {
    const rows = await this.storage.query<{ name: string; role: Role; token_sha256: string }>(
      `SELECT name, role, token_sha256 FROM ${this.storage.tables.read('dashboardTokens')} FINAL WHERE revoked = 0`,
    );
    return new Map(rows.map((r) => [r.token_sha256, { name: r.name, role: r.role }]));
  }
}

export interface UserSessionState {
  role: Role;
  credential: string;
}

/** What a session remembers of the password it was opened with (see sessionStates). */
export function credentialStamp(passwordHash: string): string {
  return sha256(`session-credential:${passwordHash}`).slice(0, 32);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function publicUser(u: StoredUser | UserInfo): UserInfo {
  return { name: u.name, role: u.role, created_at: u.created_at, updated_at: u.updated_at };
}
