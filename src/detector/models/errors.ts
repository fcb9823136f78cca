// Errors of the detector's model library. Every error carries a stable
// `code`; option messages name the option and the value they got.

export type ModelErrorCode =
  /** an option is missing or malformed (the message names it) */
  | 'ERR_MODEL_OPTION'
  /** a matrix, label vector or row does not have the expected shape */
  | 'ERR_MODEL_SHAPE'
  /** a serialized model (JSON) is not one this library wrote */
  | 'ERR_MODEL_JSON';

export class ModelError extends Error {
  override readonly name = 'ModelError';
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function optionError(option: string, problem: string, got: unknown): ModelError {
  return new ModelError('ERR_MODEL_OPTION', `${option} ${problem}, got ${JSON.stringify(got)}`);
}

export function shapeError(message: string): ModelError {
  return new ModelError('ERR_MODEL_SHAPE', message);
}

export function jsonError(kind: string, problem: string): ModelError {
  return new ModelError('ERR_MODEL_JSON', `not a ${kind} model: ${problem}`);
}

/** Validates an optional positive integer option, returning its default when absent. */
export function positiveInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw optionError(option, 'must be a positive integer', value);
  return value;
}

/** Validates an optional non-negative integer option. */
export function nonNegativeInt(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw optionError(option, 'must be a non-negative integer', value);
  return value;
}

/** Validates an optional finite number option that must be >= min (or > min when `strict`). */
export function finiteAtLeast(option: string, value: number | undefined, fallback: number, min: number, strict = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (strict && value === min)) {
    throw optionError(option, `must be a finite number ${strict ? '>' : '>='} ${min}`, value);
  }
  return value;
}
