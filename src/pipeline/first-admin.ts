// The first dashboard account of a fresh `ja4 run`: with no user at all
// nobody could log in to the dashboard the main job starts, so an `admin`
// account gets a random password, kept in a 0600 file next to the database
// as Grafana and Jenkins do for their initial admin (the log says where,
// never the password itself). Any existing user, even a removed one, means the operator
// has set accounts up: nothing is created then.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Storage } from '../storage/index.js';
import { UserStore } from '../dashboard/auth/user-store.js';
import { auditedPlan, type AuditLog } from '../dashboard/audit.js';
import { createLogger } from '../config/index.js';

export const FIRST_ADMIN_NAME = 'admin';

export interface FirstAdmin {
  name: string;
  password: string;
  /** where the password was written (0600) */
  file: string;
}

/**
 * Creates `admin` with a random password when the user table is empty; undefined otherwise.
 * When its audit row cannot be written nothing is created (AuditUnavailableError).
 */
export async function ensureFirstAdmin(storage: Storage, passwordFile: string, log: AuditLog = createLogger({ service: 'ja4' })): Promise<FirstAdmin | undefined> {
  const [row] = await storage.query<{ n: number }>(`SELECT count() AS n FROM ${storage.tables.read('dashboardUsers')}`);
  if ((row?.n ?? 0) > 0) return undefined;
  // 18 random bytes: 24 base64url characters, no padding, nothing to escape.
  const password = randomBytes(18).toString('base64url');
  // the audit row first: no account without its row (dashboard/audit.ts)
  const plan = await new UserStore(storage).planAdd(FIRST_ADMIN_NAME, 'admin', password);
  const record = { actor: 'ja4 run', role: 'admin', action: 'user.add', subject_type: 'user', subject: FIRST_ADMIN_NAME, note: 'first admin of a fresh installation' };
  const user = await auditedPlan(storage, record, plan, log);
  mkdirSync(dirname(passwordFile), { recursive: true });
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  chmodSync(passwordFile, 0o600); // `mode` applies only to a new file: a file left there keeps its own
  return { name: user.name, password, file: passwordFile };
}
