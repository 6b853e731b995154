import { isLoopback } from './transport-check';
import type { PolicyInput } from './engine';

/** policy-gate's configuration as the editor saves it. */
export interface GateConfig {
  /** A tectonic-bus the records go out on; its URL tells whether they travel over TLS. */
  bus?: string;
  /** Without a bus: the technician's word, `tls` or `plain`; anything else leaves it unknown. */
  tls?: string;
}

/** The bus config as found: its URL, or why it could not be found. */
export type GateBus = { url: string } | { problem: string };

export interface GateSettings {
  /** How the records leave the site; undefined is unknown, which a `transport` rule rejects. */
  transport: PolicyInput['transport'];
  /** Said once at deploy, when the named bus could not be found. */
  warning?: string;
}

function onLoopback(url: string): boolean {
  try {
    return isLoopback(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The transport a `transport` rule judges, from the bus the flow names or, failing one, what the technician says. */
export function parseGateSettings(config: GateConfig, bus: GateBus | undefined): GateSettings {
  if (config.bus) {
    if (bus === undefined || 'problem' in bus) return { transport: undefined, warning: `policy-gate: the bus it checks for TLS: ${bus?.problem ?? 'the tectonic-bus config is missing'}; its transport counts as unknown` };
    // Plaintext to this machine's loopback crosses no network: it passes a `transport` rule, as bus-publish's own check has it (lib/policy/transport-check.ts).
    return { transport: { tls: /^(mqtts|wss):/.test(bus.url) || onLoopback(bus.url) } };
  }
  if (config.tls === 'tls') return { transport: { tls: true } };
  if (config.tls === 'plain') return { transport: { tls: false } };
  return { transport: undefined };
}
