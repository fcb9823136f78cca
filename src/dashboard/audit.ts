// The audit trail: every mutation (classification, whitelist, user change,
// login, token) writes one row into audit_logs with who, what, when and
// the state before and after, as JSON. Never updated, kept `audit` days.
//
// The rule every caller follows (auditedChange): the row first, then the
// change. A SOC must be able to trust the trail to be complete, so when
// the row cannot be written the change is not made (AuditUnavailableError:
// 503 audit_unavailable on the API, exit 1 in the CLI). A change that fails
// after its row was written gets a second row, `<action>.failed`, so the
// trail never claims a change that did not happen without saying so.
import type { Logger } from '../config/index.js';
import type { Storage } from '../storage/index.js';
import type { PlannedChange } from './auth/user-store.js';

export interface AuditRecord {
  actor: string;
  role: string;
  action: string;
  subject_type: string;
  subject: string;
  before?: unknown;
  after?: unknown;
  note?: string;
  client_ip?: string;
  request_id?: string;
}

/** Where an audit problem that is not thrown to the caller is reported. */
export type AuditLog = Pick<Logger, 'error'>;

/** The audit row could not be written, so the change it describes was not made. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
  readonly code = 'ERR_AUDIT_UNAVAILABLE';
  constructor(
    readonly records: readonly AuditRecord[],
    cause: unknown,
  ) {
    const r = records[0];
    const what = r ? `${r.action} ${r.subject}${records.length > 1 ? ` (+${records.length - 1} more)` : ''}` : 'change';
    super(`${what} not made: the audit trail could not be written (${errorText(cause)})`, { cause });
  }
}

const json = (v: unknown): string => (v === undefined || v === null ? '' : JSON.stringify(v));
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const asList = (records: AuditRecord | AuditRecord[]): AuditRecord[] => (Array.isArray(records) ? records : [records]);

export async function writeAudit(storage: Storage, records: AuditRecord | AuditRecord[]): Promise<void> {
  const list = asList(records);
  const ts = Date.now();
  await storage.insertRows(
    storage.tables.write('auditLogs'),
    list.map((r) => ({
      ts,
      actor: r.actor,
      role: r.role,
      action: r.action,
      subject_type: r.subject_type,
      subject: r.subject,
      before: json(r.before),
      after: json(r.after),
      note: r.note ?? '',
      client_ip: r.client_ip && r.client_ip !== '' ? r.client_ip : '::',
      request_id: r.request_id ?? '',
    })),
  );
}

/** The rows of a change about to be made; AuditUnavailableError (nothing changed) when they cannot be written. */
export async function writeAuditFirst(storage: Storage, records: AuditRecord | AuditRecord[]): Promise<void> {
  const list = asList(records);
  try {
    await writeAudit(storage, list);
  } catch (err) {
    throw new AuditUnavailableError(list, err);
  }
}

/**
 * Makes an audited change: its rows first (AuditUnavailableError and no
 * change when they cannot be written), then `change()`. When the change
 * fails after that, `<action>.failed` rows follow (best effort: logged when
 * they cannot be written either) and the change's own error is rethrown.
 * `before` must have been read by the caller before this call.
 */
export async function auditedChange<T>(storage: Storage, records: AuditRecord | AuditRecord[], change: () => Promise<T>, log: AuditLog): Promise<T> {
  const list = asList(records);
  await writeAuditFirst(storage, list);
  try {
    return await change();
  } catch (err) {
    const failed = list.map((r) => ({ ...r, action: `${r.action}.failed` }));
    await writeAuditBestEffort(storage, failed, log);
    throw err;
  }
}

/**
 * auditedChange for a change planned by the user store: the plan's `before`
 * and `after` in the row (`record.after`, when given, says more than the
 * plan's), its apply() as the change.
 */
export function auditedPlan<R>(storage: Storage, record: Omit<AuditRecord, 'before'>, plan: PlannedChange<unknown, unknown, R>, log: AuditLog): Promise<R> {
  return auditedChange(storage, { ...record, before: plan.before, after: record.after === undefined ? plan.after : record.after }, () => plan.apply(), log);
}

/** For rows that must not change the outcome (a failed login stays a 401): a failure is logged, not thrown. */
export async function writeAuditBestEffort(storage: Storage, records: AuditRecord | AuditRecord[], log: AuditLog): Promise<void> {
  const list = asList(records);
  try {
    await writeAudit(storage, list);
  } catch (err) {
    log.error('audit row not written', {
      action: list[0]?.action,
      subject: list[0]?.subject,
      rows: list.length,
      request_id: list[0]?.request_id || undefined,
      error: errorText(err),
    });
  }
}
