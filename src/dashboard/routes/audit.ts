// The audit trail page (analyst and above): audit_logs newest first.
import { ROUTES, type AuditEntry, type AuditResponse } from '../api-types.js';
import type { DashboardDeps } from '../deps.js';
import { pageParams, rangeParam, textParam } from '../http/params.js';
import type { Router } from '../router.js';
import { ipText, rangeParams, select, toPage } from '../sql.js';

export function register(router: Router, { storage }: DashboardDeps): void {
  router.add(ROUTES.audit, async ({ req }): Promise<AuditResponse> => {
    const range = rangeParam(req.query, { defaultHours: 24 * 7 });
    const { limit, offset } = pageParams(req.query);
    const where = ["ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}"];
    const params: Record<string, unknown> = { ...rangeParams(range), limit: limit + 1, offset };
    for (const field of ['actor', 'action', 'subject'] as const) {
      const v = textParam(req.query, field, 512);
      if (v !== undefined) {
        where.push(`${field} = {${field}:String}`);
        params[field] = v;
      }
    }
    const rows = await select<AuditEntry>(
      storage,
      `SELECT ts, toString(actor) AS actor, toString(role) AS role, toString(action) AS action, toString(subject_type) AS subject_type, subject,
              before, after, note, ${ipText('client_ip')} AS client_ip, request_id
       FROM ${storage.tables.read('auditLogs')} WHERE ${where.join(' AND ')}
       ORDER BY ts DESC, action, subject, request_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
      params,
    );
    return toPage(rows, limit, offset);
  });
}
