// Errors of the scoring pool, with stable codes.

export type ScoringErrorCode =
  /** an option is missing or malformed (the message names it) */
  | 'ERR_SCORING_OPTION'
  /** a model file is missing or onnxruntime cannot load it */
  | 'ERR_SCORING_MODEL'
  /** a batch has the wrong shape or type, or onnxruntime rejected it */
  | 'ERR_SCORING_INPUT'
  /** score() after close() */
  | 'ERR_SCORING_CLOSED';

export class ScoringError extends Error {
  override readonly name = 'ScoringError';
  constructor(
    readonly code: ScoringErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
