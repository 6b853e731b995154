/** The little of Express the pack's admin endpoints use (RED.httpAdmin handlers). */
export interface AdminRequest {
  body?: unknown;
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
