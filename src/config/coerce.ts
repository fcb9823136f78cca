// One raw value (a YAML scalar, or the text of an environment variable or
// flag) to its typed value, or what was expected and what was given.
import type { OptionKind, OptionSpec } from './schema.js';
import { describeKind } from './schema.js';

export type RawValue = string | number | boolean | null;
export type Coerced = { ok: true; value: string | number | boolean } | { ok: false; expected: string; got: string };

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** What a value of this kind is, for a value of the wrong type. */
export function typeExpectation(kind: OptionKind): string {
  if (kind.type === 'integer') return kind.min >= 1 ? 'a positive integer' : kind.min === 0 ? 'a non-negative integer' : 'an integer';
  return describeKind(kind);
}

/**
 * @param sourceText the scalar as written in the file, when it is a plain
 *   scalar: YAML reads `0660` as the number 660, a file mode means octal.
 */
export function coerceValue(spec: OptionSpec, raw: RawValue, sourceText?: string): Coerced {
  const kind = spec.kind;
  const text = sourceText ?? (raw === null ? '' : String(raw));
  const bad = (expected = typeExpectation(kind)): Coerced => ({ ok: false, expected, got: `"${text}"` });
  switch (kind.type) {
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return bad();
      if (n < kind.min || n > kind.max) return bad(`an integer from ${kind.min} to ${kind.max}`);
      return { ok: true, value: n };
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n) || n < kind.min || n > kind.max) return bad();
      return { ok: true, value: n };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const t = text.trim().toLowerCase();
      if (TRUE.has(t)) return { ok: true, value: true };
      if (FALSE.has(t)) return { ok: true, value: false };
      return bad();
    }
    case 'string': {
      if (kind.pattern && !kind.pattern.test(text)) return bad();
      return { ok: true, value: text };
    }
    case 'enum':
      return kind.values.includes(text) ? { ok: true, value: text } : bad();
    case 'path': {
      if (text === '' && kind.optional) return { ok: true, value: '' };
      if (!text.startsWith('/') || text.includes('\0')) return bad();
      if (kind.maxBytes !== undefined && Buffer.byteLength(text) > kind.maxBytes) return bad();
      return { ok: true, value: text };
    }
    case 'listen': {
      const m = /^(|[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(text);
      const port = m ? Number(m[2]) : NaN;
      if (!m || port < 1 || port > 65535) return bad();
      return { ok: true, value: text };
    }
    case 'url': {
      if (text === '') return { ok: true, value: '' };
      let u: URL;
      try {
        u = new URL(text);
      } catch {
        return bad();
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad();
      return { ok: true, value: text.replace(/\/$/, '') };
    }
    case 'mode': {
      const m = /^(?:0o?)?([0-7]{3,4})$/.exec(text.trim());
      if (!m) return bad();
      return { ok: true, value: parseInt(m[1]!, 8) };
    }
  }
}
