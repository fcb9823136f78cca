// Analyst verdicts: classify an IP, a JA4 or a campaign as bot, human or
// whitelisted, with a note. The row goes into analyst_classifications,
// which the detector's supervised voice reads; the audit trail gets the
// verdict before and after, written before the verdict itself (audit.ts).
import {
  CLASSIFICATION_LABELS,
  ROUTES,
  SUBJECT_TYPES,
  type BulkClassifyResponse,
  type Classification,
  type ClassificationsResponse,
  type ClassifyResponse,
  type SubjectType,
} from '../api-types.js';
import { auditedChange } from '../audit.js';
import { CLASSIFICATION_COLUMNS, currentClassifications } from '../classification-rows.js';
import type { DashboardDeps } from '../deps.js';
import { badField } from '../http/errors.js';
import { campaignValue, enumParam, enumValue, ipValue, ja4Value, jsonBody, pageParams, stringField, textParam } from '../http/params.js';
import type { Principal, RouteContext, Router } from '../router.js';
import { select, toPage } from '../sql.js';

export const MAX_BULK = 500;
export const MAX_NOTE = 2000;

/** The subject in its canonical form for its type (400 naming `field` otherwise). */
export function subjectValue(type: SubjectType, field: string, value: unknown): string {
  switch (type) {
    case 'ip':
      return ipValue(field, value);
    case 'ja4':
      return ja4Value(field, value);
    case 'campaign':
      return campaignValue(field, value);
  }
}

async function classify(
  { storage, log }: Pick<DashboardDeps, 'storage' | 'log'>,
  ctx: RouteContext,
  type: SubjectType,
  subjects: string[],
  label: Classification['label'],
  note: string,
): Promise<{ after: Classification[]; before: Map<string, Classification> }> {
  const p = ctx.principal as Principal;
  const before = await currentClassifications(storage, type, subjects);
  const now = Date.now();
  const rows = subjects.map((subject) => ({ subject_type: type, subject, label, note, actor: p.name, updated_at: now }));
  const after = rows.map((r) => ({ ...r, updated_at: new Date(now).toISOString() }));
  const records = after.map((a) => ({
    actor: p.name,
    role: p.role,
    action: label === 'whitelisted' ? 'whitelist' : 'classify',
    subject_type: type,
    subject: a.subject,
    before: before.get(a.subject) ?? null,
    after: a,
    note,
    client_ip: ctx.req.remoteIp,
    request_id: ctx.req.requestId,
  }));
  // the rows the detector reads are written only once the audit trail has the verdicts
  await auditedChange(storage, records, () => storage.insertRows(storage.tables.write('analystClassifications'), rows), log);
  return { after, before };
}

export function register(router: Router, deps: DashboardDeps): void {
  const { storage } = deps;
  router.add(ROUTES.classifications, async ({ req }): Promise<ClassificationsResponse> => {
    const { limit, offset } = pageParams(req.query);
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: limit + 1, offset };
    const type = enumParam(req.query, 'subject_type', SUBJECT_TYPES);
    if (type) {
      where.push('subject_type = {type:String}');
      params.type = type;
    }
    const subject = textParam(req.query, 'subject', 256);
    if (subject) {
      where.push('subject = {subject:String}');
      params.subject = subject;
    }
    const label = enumParam(req.query, 'label', CLASSIFICATION_LABELS);
    if (label) {
      where.push('label = {label:String}');
      params.label = label;
    }
    const rows = await select<Classification>(
      storage,
      `SELECT ${CLASSIFICATION_COLUMNS} FROM ${storage.tables.read('analystClassifications')} FINAL
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, subject LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
      params,
    );
    return toPage(rows, limit, offset);
  });

  router.add(ROUTES.classify, async (ctx): Promise<ClassifyResponse> => {
    const body = jsonBody(ctx.req.body);
    const type = enumValue('subject_type', body.subject_type, SUBJECT_TYPES);
    const subject = subjectValue(type, 'subject', body.subject);
    const label = enumValue('label', body.label, CLASSIFICATION_LABELS);
    const note = stringField(body, 'note', { max: MAX_NOTE, optional: true }) ?? '';
    const { after, before } = await classify(deps, ctx, type, [subject], label, note);
    return { classification: after[0]!, before: before.get(subject) ?? null };
  });

  router.add(ROUTES.classifyBulk, async (ctx): Promise<BulkClassifyResponse> => {
    const body = jsonBody(ctx.req.body);
    const type = enumValue('subject_type', body.subject_type, SUBJECT_TYPES);
    if (!Array.isArray(body.subjects) || body.subjects.length === 0 || body.subjects.length > MAX_BULK) {
      throw badField('subjects', `must be an array of 1 to ${MAX_BULK} subjects`);
    }
    const subjects = [...new Set(body.subjects.map((s, i) => subjectValue(type, `subjects[${i}]`, s)))];
    const label = enumValue('label', body.label, CLASSIFICATION_LABELS);
    const note = stringField(body, 'note', { max: MAX_NOTE, optional: true }) ?? '';
    await classify(deps, ctx, type, subjects, label, note);
    return { classified: subjects.length };
  });
}
