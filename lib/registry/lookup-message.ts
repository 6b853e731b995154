import { reason, type Reason } from '../reasons';
import { NAME } from './entry-format';

/** What a message into registry-lookup asks for. */
export type LookupRequest =
  | { kind: 'lookup'; service: string }
  /** Feedback: the flow could not use `endpoint` (a key `{site}/{instance}` or a URL) of `service`. */
  | { kind: 'failed'; service: string; endpoint: string }
  | { kind: 'refused'; reasons: Reason[] };

interface LookupInput {
  topic?: unknown;
  service?: unknown;
  error?: unknown;
  endpoint?: unknown;
  registry?: unknown;
}

/**
 * Reads a message: feedback when it says an endpoint failed (msg.registry.failed
 * naming a key or URL; or msg.topic "failed", or a msg.error from a catch
 * node, on a message still carrying the msg.endpoint this node set), a
 * lookup otherwise. The service is the node's, else msg.service.
 */
export function readLookupMessage(msg: LookupInput, configured: string | undefined): LookupRequest {
  const endpoint = isObject(msg.endpoint) ? msg.endpoint : undefined;
  const service = configured ?? (typeof msg.service === 'string' ? msg.service : typeof endpoint?.service === 'string' ? endpoint.service : undefined);
  const registry = isObject(msg.registry) ? msg.registry : undefined;
  const named = typeof registry?.failed === 'string' ? registry.failed : undefined;
  const reported = named !== undefined || (endpoint !== undefined && (msg.topic === 'failed' || msg.error !== undefined));
  if (service === undefined || !NAME.test(service)) {
    return { kind: 'refused', reasons: [reason('service', 'required', 'no service to look up: set the node\'s service or msg.service')] };
  }
  if (!reported) return { kind: 'lookup', service };
  const which = named ?? (typeof endpoint?.key === 'string' ? endpoint.key : undefined);
  if (which === undefined) return { kind: 'refused', reasons: [reason('registry.failed', 'required', 'feedback must name the endpoint: msg.registry.failed or msg.endpoint.key')] };
  return { kind: 'failed', service, endpoint: which };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
