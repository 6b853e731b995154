import { parseUntrustedJson } from '../untrusted-json';

/** What the heartbeat node's dialog holds (every field a string, `${ENV}` resolved by Node-RED). */
export interface HeartbeatConfig {
  interval?: string;
  templateName?: string;
  templateVersion?: string;
  /** Every how many beats a synthetic transaction is sent; '' or 0: none. */
  probeEvery?: string;
  /** Seconds a probe has to come back on the site's records topic. */
  probeDeadline?: string;
  /** The local record the probe sends into the pipeline, JSON, in the form the pipeline's cdm-map expects. */
  probeRecord?: string;
}

export interface HeartbeatSettings {
  intervalMs: number;
  template?: { name: string; version: string };
  probe?: { every: number; deadlineMs: number; record: unknown };
}

export const DEFAULT_INTERVAL_SECONDS = 30;
export const DEFAULT_PROBE_DEADLINE_SECONDS = 10;

/**
 * The node's settings, checked; `env` reads the process environment for the
 * template defaults (TECTONIC_TEMPLATE_NAME, TECTONIC_TEMPLATE_VERSION) and
 * the interval default (TECTONIC_HEARTBEAT_SECONDS).
 */
export function parseHeartbeatSettings(config: HeartbeatConfig, env: (name: string) => string | undefined): { ok: true; value: HeartbeatSettings } | { ok: false; problem: string } {
  const interval = seconds(config.interval, env('TECTONIC_HEARTBEAT_SECONDS'), DEFAULT_INTERVAL_SECONDS, 'interval');
  if (typeof interval === 'string') return { ok: false, problem: interval };
  const settings: HeartbeatSettings = { intervalMs: Math.round(interval * 1000) };
  const name = text(config.templateName) || (env('TECTONIC_TEMPLATE_NAME') ?? '').trim();
  const version = text(config.templateVersion) || (env('TECTONIC_TEMPLATE_VERSION') ?? '').trim();
  if (name !== '' && version !== '') settings.template = { name, version };
  else if (name !== '' || version !== '') return { ok: false, problem: `a template needs both a name and a version, got name "${name}" and version "${version}"` };

  const every = text(config.probeEvery);
  if (every !== '' && every !== '0') {
    const n = Number(every);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) return { ok: false, problem: `probe every must be a whole number of beats from 1 to 10000 (or empty for no probes), got "${every}"` };
    const deadline = seconds(config.probeDeadline, undefined, DEFAULT_PROBE_DEADLINE_SECONDS, 'probe deadline');
    if (typeof deadline === 'string') return { ok: false, problem: deadline };
    const record = parseUntrustedJson(text(config.probeRecord), 'probeRecord');
    if (!record.ok || typeof record.value !== 'object' || record.value === null) {
      return { ok: false, problem: `the probe record must be a JSON object in the form the pipeline's cdm-map reads${record.ok ? '' : `: ${record.reasons[0]?.message ?? ''}`}` };
    }
    settings.probe = { every: n, deadlineMs: Math.round(deadline * 1000), record: record.value };
  }
  return { ok: true, value: settings };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** Seconds from 0.1 to a day; '' takes the fallback. A problem in words as a string. */
function seconds(raw: unknown, fromEnv: string | undefined, fallback: number, what: string): number | string {
  const given = text(raw) || (fromEnv ?? '').trim();
  if (given === '') return fallback;
  const n = Number(given);
  if (!Number.isFinite(n) || n < 0.1 || n > 86_400) return `${what} must be a number of seconds from 0.1 to 86400, got "${given}"`;
  return n;
}
