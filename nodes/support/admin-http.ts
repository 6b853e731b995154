/** The little of Express the pack's admin endpoints use (RED.httpAdmin handlers). */
export interface AdminRequest {
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  params: Record<string, string | string[] | undefined>;
}

export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
  /** Sets a response header (Express's res.set). */
  set(name: string, value: string): AdminResponse;
  send(body: string): void;
}

/** A route parameter as one string, or undefined. */
export function param(req: AdminRequest, name: string): string | undefined {
  const value = req.params[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Middleware for every admin endpoint that takes a body: `application/json`
 * only, else 415. A web page can make a browser send a cross-site form POST
 * (urlencoded, multipart, text/plain) without a CORS preflight, and Node-RED's
 * admin parses urlencoded bodies into objects; a JSON content type cannot be
 * sent cross-site without a preflight, which the admin API does not grant
 * (issue 20: the demo editor ran a spec posted from a form).
 */
export function jsonBodyOnly(req: AdminRequest, res: AdminResponse, next: () => void): void {
  const type = req.headers?.['content-type'];
  const media = (typeof type === 'string' ? type : '').split(';')[0]?.trim().toLowerCase();
  if (media === 'application/json') return next();
  res.status(415).json({ message: `this endpoint accepts only application/json bodies, got ${typeof type === 'string' && type !== '' ? type : 'no content type'}` });
}
