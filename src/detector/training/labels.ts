// Labels for the supervised voice (the boosted trees), per feature row:
//   1. analyst verdicts (analyst_classifications, subject ip or ja4):
//      bot -> 1, human or whitelisted -> 0; they win over everything;
//   2. ground truth given by the caller (the simulator's labels for the
//      shipped default model and for eval), per client IP;
//   3. reference lists: a known bot network or bot JA4 -> 1.
// Rows with none of these stay unlabeled (NaN).
import type { Storage } from '../../storage/index.js';
import type { FeatureRow } from '../features/index.js';

export type LabelSource = 'analyst' | 'ground_truth' | 'reference';

export interface AnalystVerdicts {
  ip: Map<string, number>;
  ja4: Map<string, number>;
}

export interface GroundTruth {
  isBot: boolean;
  family: string;
  botName: string;
}

const verdictValue = (label: string): number | undefined => (label === 'bot' ? 1 : label === 'human' || label === 'whitelisted' ? 0 : undefined);

export async function readAnalystVerdicts(storage: Storage): Promise<AnalystVerdicts> {
  const rows = await storage.query<{ subject_type: string; subject: string; label: string }>(
    `SELECT toString(subject_type) AS subject_type, subject, toString(label) AS label
     FROM ${storage.tables.read('analystClassifications')} FINAL
     WHERE subject_type IN ('ip', 'ja4')`,
  );
  const out: AnalystVerdicts = { ip: new Map(), ja4: new Map() };
  for (const r of rows) {
    const v = verdictValue(r.label);
    if (v === undefined) continue;
    (r.subject_type === 'ip' ? out.ip : out.ja4).set(r.subject, v);
  }
  return out;
}

export interface RowLabels {
  /** 1 bot, 0 human, NaN unknown; one per feature row */
  y: Float64Array;
  sources: Record<LabelSource, number>;
}

export function labelRows(rows: readonly FeatureRow[], analyst: AnalystVerdicts, truth?: ReadonlyMap<string, GroundTruth>): RowLabels {
  const y = new Float64Array(rows.length).fill(Number.NaN);
  const sources: Record<LabelSource, number> = { analyst: 0, ground_truth: 0, reference: 0 };
  rows.forEach((r, i) => {
    const a = analyst.ip.get(r.clientIp) ?? analyst.ja4.get(r.ja4);
    if (a !== undefined) {
      y[i] = a;
      sources.analyst++;
      return;
    }
    const t = truth?.get(r.clientIp);
    if (t) {
      y[i] = t.isBot ? 1 : 0;
      sources.ground_truth++;
      return;
    }
    if (r.botIpName !== '' || r.botJa4Name !== '') {
      y[i] = 1;
      sources.reference++;
    }
  });
  return { y, sources };
}
