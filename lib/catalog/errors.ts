/**
 * Thrown only for programming errors (a caller breaking a function's
 * contract); expected problems with catalogs and records are values.
 */
export class CatalogError extends Error {
  constructor(
    readonly code: 'invalid-argument',
    message: string,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}
