// The one data shape the models take: a dense row-major matrix of doubles.
// Features arrive from the pipeline as Float64Array (or Float32Array over the
// wire to the scoring workers); training and the reference scores are double.

import { shapeError } from './errors.js';

export interface Matrix {
  rows: number;
  cols: number;
  /** row-major, length rows * cols */
  data: Float64Array;
}

export function makeMatrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? new Float64Array(rows * cols);
  const m = { rows, cols, data: d };
  checkMatrix(m, 'matrix');
  return m;
}

/** Builds a matrix from an array of equal-length rows (tests, small inputs). */
export function matrixFromRows(rows: ArrayLike<number>[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw shapeError(`row ${i} has ${r.length} values, expected ${cols}`);
    data.set(Array.from(r), i * cols);
  });
  return { rows: rows.length, cols, data };
}

/** A view (no copy) of row i. */
export function rowOf(X: Matrix, i: number): Float64Array {
  return X.data.subarray(i * X.cols, (i + 1) * X.cols);
}

export function checkMatrix(X: Matrix, name: string, opts: { minRows?: number; cols?: number; allowNaN?: boolean } = {}): void {
  if (!Number.isInteger(X.rows) || !Number.isInteger(X.cols) || X.rows < 0 || X.cols <= 0) {
    throw shapeError(`${name} must have integer rows >= 0 and cols > 0, got ${X.rows}x${X.cols}`);
  }
  if (!(X.data instanceof Float64Array) || X.data.length !== X.rows * X.cols) {
    throw shapeError(`${name}.data must be a Float64Array of rows*cols = ${X.rows * X.cols} values`);
  }
  if (opts.minRows !== undefined && X.rows < opts.minRows) {
    throw shapeError(`${name} needs at least ${opts.minRows} rows, got ${X.rows}`);
  }
  if (opts.cols !== undefined && X.cols !== opts.cols) {
    throw shapeError(`${name} has ${X.cols} columns, the model was trained on ${opts.cols}`);
  }
  if (!opts.allowNaN) {
    for (let i = 0; i < X.data.length; i++) {
      if (!Number.isFinite(X.data[i]!)) {
        throw shapeError(`${name} row ${Math.floor(i / X.cols)} column ${i % X.cols} is not finite (${X.data[i]})`);
      }
    }
  }
}
