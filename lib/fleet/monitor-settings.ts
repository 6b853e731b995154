import { type Checked, type Reason, reason } from '../reasons';
import { SITE_ID } from './health-topics';

/** What heartbeat-monitor is told in its editor dialog, parsed (docs/fleet.md "At the centre"). */
export interface MonitorSettings {
  /** Sites that must exist: one never heard counts as `missing`. */
  expected: string[];
  /** How often the monitor looks for silent sites; an alert for silence comes at most this late. */
  checkPeriodMs: number;
  /** A site is missing when no beat came for this many of its own intervals. */
  missingAfterIntervals: number;
  /** The interval assumed for an expected site never heard (it has told us none). */
  defaultIntervalMs: number;
  /** Sun-setting CDM versions are warned about this many days ahead. */
  sunsetWarnDays: number;
  /** A beat's clock this far from ours is reported as skew. */
  skewWarnMs: number;
  damping: DampingSettings;
  /** At most this many sites are tracked (and labelled in metrics); more are counted and ignored. */
  maxSites: number;
  /** Each alert also goes to `tectonic/alerts/{site}`. */
  alertSites: boolean;
}

export interface DampingSettings {
  /** At most this many alerts per site per window; the rest are held back and the outcome told at the window's end. */
  maxAlertsPerWindow: number;
  windowMs: number;
}

export const MONITOR_DEFAULTS: MonitorSettings = {
  expected: [],
  checkPeriodMs: 1_000,
  missingAfterIntervals: 3,
  defaultIntervalMs: 30_000,
  sunsetWarnDays: 30,
  skewWarnMs: 2_000,
  damping: { maxAlertsPerWindow: 6, windowMs: 60_000 },
  maxSites: 5_000,
  alertSites: true,
};

/** The raw fields as the editor saves them (strings; absent in older nodes: the default). */
export interface MonitorConfig {
  expected?: string;
  checkPeriod?: string;
  missingAfter?: string;
  defaultInterval?: string;
  sunsetWarnDays?: string;
  skewWarn?: string;
  maxAlerts?: string;
  alertWindow?: string;
  maxSites?: string;
  alertSites?: boolean | string;
}

function number(raw: string | undefined, path: string, fallback: number, min: number, max: number, reasons: Reason[], unit = ''): number {
  const text = (raw ?? '').trim();
  if (text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    reasons.push(reason(path, 'range', `"${text}" must be a number from ${min} to ${max}${unit}`));
    return fallback;
  }
  return value;
}

/** Seconds in the dialog, milliseconds inside; every field bounded so a typo cannot stall the event loop. */
export function parseMonitorSettings(config: MonitorConfig): Checked<MonitorSettings> {
  const reasons: Reason[] = [];
  const expected = [...new Set((config.expected ?? '').split(/[\s,]+/).filter((s) => s !== ''))];
  for (const site of expected) if (!SITE_ID.test(site)) reasons.push(reason('expected', 'pattern', `"${site}" is not a site id`));
  const d = MONITOR_DEFAULTS;
  const settings: MonitorSettings = {
    expected,
    checkPeriodMs: Math.round(number(config.checkPeriod, 'checkPeriod', d.checkPeriodMs / 1000, 0.05, 3600, reasons, ' seconds') * 1000),
    missingAfterIntervals: number(config.missingAfter, 'missingAfter', d.missingAfterIntervals, 1, 100, reasons),
    defaultIntervalMs: Math.round(number(config.defaultInterval, 'defaultInterval', d.defaultIntervalMs / 1000, 0.1, 86_400, reasons, ' seconds') * 1000),
    sunsetWarnDays: number(config.sunsetWarnDays, 'sunsetWarnDays', d.sunsetWarnDays, 0, 3650, reasons, ' days'),
    skewWarnMs: Math.round(number(config.skewWarn, 'skewWarn', d.skewWarnMs / 1000, 0, 86_400, reasons, ' seconds') * 1000),
    damping: {
      maxAlertsPerWindow: Math.floor(number(config.maxAlerts, 'maxAlerts', d.damping.maxAlertsPerWindow, 1, 10_000, reasons)),
      windowMs: Math.round(number(config.alertWindow, 'alertWindow', d.damping.windowMs / 1000, 1, 86_400, reasons, ' seconds') * 1000),
    },
    maxSites: Math.floor(number(config.maxSites, 'maxSites', d.maxSites, 1, 100_000, reasons)),
    alertSites: config.alertSites === undefined ? d.alertSites : config.alertSites === true || config.alertSites === 'true',
  };
  if (expected.length > settings.maxSites) reasons.push(reason('expected', 'too-many', `${expected.length} expected sites, more than the ${settings.maxSites} tracked`));
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, value: settings };
}
