// Reading analyst verdicts (analyst_classifications, last write wins).
import type { Storage } from '../storage/index.js';
import type { Classification, SubjectType } from './api-types.js';
import { select } from './sql.js';

export const CLASSIFICATION_COLUMNS = 'toString(subject_type) AS subject_type, subject, toString(label) AS label, note, toString(actor) AS actor, updated_at';

export async function currentClassification(storage: Storage, subjectType: SubjectType, subject: string): Promise<Classification | null> {
  const rows = await select<Classification>(
    storage,
    `SELECT ${CLASSIFICATION_COLUMNS} FROM ${storage.tables.read('analystClassifications')} FINAL
     WHERE subject_type = {type:String} AND subject = {subject:String}`,
    { type: subjectType, subject },
  );
  return rows[0] ?? null;
}

export async function currentClassifications(storage: Storage, subjectType: SubjectType, subjects: string[]): Promise<Map<string, Classification>> {
  if (subjects.length === 0) return new Map();
  const rows = await select<Classification>(
    storage,
    `SELECT ${CLASSIFICATION_COLUMNS} FROM ${storage.tables.read('analystClassifications')} FINAL
     WHERE subject_type = {type:String} AND subject IN {subjects:Array(String)}`,
    { type: subjectType, subjects },
  );
  return new Map(rows.map((r) => [r.subject, r]));
}
