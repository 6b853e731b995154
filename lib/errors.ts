/**
 * The one error class lib/ throws, for states that are not an expected outcome
 * (expected outcomes are values). `code` is stable so adapters and tests can
 * branch on it without parsing messages.
 */
export type TectonicErrorCode =
  | 'BAD_CONFIG'
  | 'BROKER_START_FAILED'
  | 'BUS_CLOSED'
  | 'BUS_STATE'
  | 'BUS_PUBLISH_FAILED'
  | 'BUS_SUBSCRIBE_FAILED'
  | 'BAD_ENVELOPE'
  /** A caller broke a function's contract (a programming error, not bad data). */
  | 'INVALID_ARGUMENT'
  /** The command line was used wrongly or its input is unreadable; the CLI exits 2 with its usage. */
  | 'USAGE';

export class TectonicError extends Error {
  readonly code: TectonicErrorCode;

  constructor(code: TectonicErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TectonicError';
    this.code = code;
  }
}
