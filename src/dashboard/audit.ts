// The audit trail: every mutation (classification, whitelist, user change,
// login, token) writes one row into audit_logs with who, what, when and
// the state before and after, as JSON. Never updated, kept `audit` days.
import type { Storage } from '../storage/index.js';

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

const json = (v: unknown): string => (v === undefined || v === null ? '' : JSON.stringify(v));

export async function writeAudit(storage: Storage, records: AuditRecord | AuditRecord[]): Promise<void> {
  const list = Array.isArray(records) ? records : [records];
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
