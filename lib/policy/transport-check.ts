import { envelopeOf } from '../envelope/read-envelope';
import { type Reason, reason } from '../reasons';
import type { CompiledPolicy } from './engine';

/**
 * bus-publish's own check of a policy's `transport: { tls: required }`
 * (issue 20): policy-gate checks it when it is told the bus, but a flow may
 * publish without a gate, or name another bus. Plaintext (`mqtt:`, `ws:`)
 * to a broker on this machine's loopback never crosses a network and passes;
 * to any other host it is refused before the record enters the outbox.
 */
export function plaintextTransportRefusal(busUrl: string, policy: Pick<CompiledPolicy, 'bundle'> | undefined, cdm: unknown): Reason | undefined {
  if (policy === undefined) return undefined;
  const envelope = envelopeOf(cdm);
  const entity = typeof envelope?.entity === 'string' ? envelope.entity : undefined;
  const site = typeof envelope?.site === 'string' ? envelope.site : undefined;
  const rule = policy.bundle.rules.find((r) => r.kind === 'transport' && applies(r.scope.entities, entity) && applies(r.scope.sites, site));
  if (rule === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(busUrl);
  } catch {
    return reason('transport.tls', rule.label, 'the policy requires TLS, and the bus URL cannot be read to tell');
  }
  if (url.protocol === 'mqtts:' || url.protocol === 'wss:') return undefined;
  if (isLoopback(url.hostname)) return undefined;
  return reason('transport.tls', rule.label, `the policy requires TLS, and the bus connects in plaintext (${url.protocol}//) to ${url.hostname}, which is not this machine: use mqtts:// or wss://`);
}

function applies(names: readonly string[] | undefined, name: string | undefined): boolean {
  return names === undefined || (name !== undefined && names.includes(name));
}

/** This machine's loopback: 127.0.0.0/8, ::1, localhost (brackets of an IPv6 URL host allowed). */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
