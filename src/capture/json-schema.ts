// A small JSON Schema (2020-12) checker for the subset our contracts use:
// type, const, enum, properties, required, additionalProperties (false or a
// schema), items, oneOf, $ref to "#/$defs/...", pattern, minLength,
// maxLength, minimum, maximum. Anything else in a schema is an error at
// compile time, so a schema never silently checks less than it says.
// Patterns are compiled once; checking allocates only for the error list.

export type JsonSchema = { [key: string]: unknown };

export interface SchemaError {
  /** JSON pointer of the offending value ("" = the root) */
  path: string;
  message: string;
}

const SUPPORTED = new Set([
  '$schema', '$id', 'title', 'description', '$defs', '$ref', 'type', 'const', 'enum', 'properties', 'required',
  'additionalProperties', 'items', 'oneOf', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum',
]);

type Check = (value: unknown, path: string, errors: SchemaError[]) => void;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Compiles a schema into a checker; throws on keywords outside the subset. */
export function compileSchema(root: JsonSchema): (value: unknown) => SchemaError[] {
  const defs = (root.$defs ?? {}) as Record<string, JsonSchema>;
  const compiled = new Map<string, Check>();

  function compile(s: JsonSchema, where: string): Check {
    for (const k of Object.keys(s)) {
      if (!SUPPORTED.has(k)) throw new Error(`schema keyword "${k}" at ${where} is not supported by this checker`);
    }
    const checks: Check[] = [];
    if (typeof s.$ref === 'string') {
      const m = /^#\/\$defs\/(.+)$/.exec(s.$ref);
      if (!m || !defs[m[1]!]) throw new Error(`unresolvable $ref ${s.$ref} at ${where}`);
      const name = m[1]!;
      checks.push((v, p, e) => {
        let c = compiled.get(name);
        if (!c) {
          c = compile(defs[name]!, `#/$defs/${name}`);
          compiled.set(name, c);
        }
        c(v, p, e);
      });
    }
    if (s.type !== undefined) {
      const t = s.type as string;
      checks.push((v, p, e) => {
        const actual = typeOf(v);
        if (actual !== t && !(t === 'number' && actual === 'integer')) e.push({ path: p, message: `must be ${t}, got ${actual}` });
      });
    }
    if ('const' in s) {
      const c = s.const;
      checks.push((v, p, e) => void (v !== c && e.push({ path: p, message: `must be ${JSON.stringify(c)}` })));
    }
    if (Array.isArray(s.enum)) {
      const allowed = s.enum as unknown[];
      checks.push((v, p, e) => void (!allowed.includes(v) && e.push({ path: p, message: `must be one of ${JSON.stringify(allowed)}` })));
    }
    if (typeof s.pattern === 'string') {
      const re = new RegExp(s.pattern, 'u');
      checks.push((v, p, e) => void (typeof v === 'string' && !re.test(v) && e.push({ path: p, message: `must match ${s.pattern}` })));
    }
    if (typeof s.minLength === 'number' || typeof s.maxLength === 'number') {
      const min = (s.minLength as number | undefined) ?? 0;
      const max = (s.maxLength as number | undefined) ?? Infinity;
      checks.push((v, p, e) => {
        if (typeof v !== 'string') return;
        const n = [...v].length;
        if (n < min || n > max) e.push({ path: p, message: `length must be between ${min} and ${max}, got ${n}` });
      });
    }
    if (typeof s.minimum === 'number' || typeof s.maximum === 'number') {
      const min = (s.minimum as number | undefined) ?? -Infinity;
      const max = (s.maximum as number | undefined) ?? Infinity;
      checks.push((v, p, e) => void (typeof v === 'number' && (v < min || v > max) && e.push({ path: p, message: `must be between ${min} and ${max}` })));
    }
    if (s.properties !== undefined || s.required !== undefined || s.additionalProperties !== undefined) {
      const props = new Map<string, Check>();
      for (const [k, sub] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) props.set(k, compile(sub, `${where}/properties/${k}`));
      const required = (s.required ?? []) as string[];
      const extra = s.additionalProperties;
      const extraCheck = typeof extra === 'object' && extra !== null ? compile(extra as JsonSchema, `${where}/additionalProperties`) : undefined;
      checks.push((v, p, e) => {
        if (typeOf(v) !== 'object') return;
        const o = v as Record<string, unknown>;
        for (const r of required) if (!(r in o)) e.push({ path: p, message: `missing required property "${r}"` });
        for (const [k, val] of Object.entries(o)) {
          const c = props.get(k);
          if (c) c(val, `${p}/${k}`, e);
          else if (extra === false) e.push({ path: p, message: `unexpected property "${k}"` });
          else if (extraCheck) extraCheck(val, `${p}/${k}`, e);
        }
      });
    }
    if (s.items !== undefined) {
      const item = compile(s.items as JsonSchema, `${where}/items`);
      checks.push((v, p, e) => {
        if (Array.isArray(v)) v.forEach((x, i) => item(x, `${p}/${i}`, e));
      });
    }
    if (Array.isArray(s.oneOf)) {
      const alts = (s.oneOf as JsonSchema[]).map((a, i) => compile(a, `${where}/oneOf/${i}`));
      checks.push((v, p, e) => {
        const results = alts.map((a) => {
          const errs: SchemaError[] = [];
          a(v, p, errs);
          return errs;
        });
        const ok = results.filter((r) => r.length === 0).length;
        if (ok === 1) return;
        if (ok > 1) {
          e.push({ path: p, message: `matches ${ok} of the oneOf alternatives, must match exactly one` });
          return;
        }
        // Report the alternative that came closest (fewest errors).
        const best = results.reduce((a, b) => (b.length < a.length ? b : a));
        e.push(...best);
      });
    }
    return (v, p, e) => {
      for (const c of checks) c(v, p, e);
    };
  }

  const top = compile(root, '#');
  return (value) => {
    const errors: SchemaError[] = [];
    top(value, '', errors);
    return errors;
  };
}
