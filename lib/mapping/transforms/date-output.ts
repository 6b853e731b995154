import { DateTime, FixedOffsetZone, type Zone } from 'luxon';
import { type Reason, reason } from '../../reasons';
import { isoInstant } from '../iso-instant';
import { optionalString } from '../options';

/**
 * What `date` writes (issue 18: it always wrote `…:00.000Z`, and a spec that
 * needed a plain date or an epoch had to reach for JSONata). `output`:
 *
 * - `"iso"` (default): `2026-11-24T07:00:00.000Z`, the canonical form;
 * - `"iso-seconds"`: `2026-11-24T07:00:00Z` (milliseconds cut, not rounded);
 * - `"date"`: `2026-11-24`;
 * - `"epochMs"`: the number 1795503600000;
 * - anything else: a Luxon format string (`"dd.MM.yyyy HH:mm"`), checked now.
 *
 * `outputZone` writes the ISO forms, the date and a format in that zone
 * instead of UTC (ISO then carries its offset, `+01:00`); an epoch has none.
 */
export type DateWriter = (instant: number) => string | number;

export const NAMED_OUTPUTS = ['iso', 'iso-seconds', 'date', 'epochMs'] as const;

const MAX_FORMAT = 100;
const UTC = FixedOffsetZone.utcInstance;
/** Two instants that differ in every field, to see that a format writes something of the date. */
const PROBES = [Date.UTC(2026, 10, 24, 7, 5, 9, 123), Date.UTC(1999, 1, 3, 13, 14, 15, 678)];

/** The writer, or null after pushing the reasons; `zone` is the already-read `outputZone`. */
export function compileDateOutput(options: Record<string, unknown>, zone: Zone | undefined, locale: string, path: string, reasons: Reason[]): DateWriter | null {
  const output = optionalString(options, 'output', path, reasons) ?? 'iso';
  if (output === null) return null;
  // A universal zone at offset 0 is UTC: keep the fast writer and the `Z`.
  const inUtc = zone === undefined || (zone.isUniversal && zone.offset(0) === 0);
  switch (output) {
    case 'iso':
      return inUtc ? isoInstant : (instant) => DateTime.fromMillis(instant, { zone }).toISO() as string;
    case 'iso-seconds':
      return inUtc
        ? (instant) => `${isoInstant(instant).slice(0, 19)}Z`
        : (instant) => DateTime.fromMillis(instant - mod(instant, 1000), { zone }).toISO({ suppressMilliseconds: true }) as string;
    case 'date':
      return inUtc ? (instant) => isoInstant(instant).slice(0, 10) : (instant) => DateTime.fromMillis(instant, { zone }).toISODate() as string;
    case 'epochMs':
      if (zone !== undefined) {
        reasons.push(reason(`${path}.outputZone`, 'unknown-option', 'has no meaning with "output": "epochMs": an epoch is an instant, without a zone'));
        return null;
      }
      return (instant) => instant;
    default:
      return compileOutputFormat(output, zone ?? UTC, locale, `${path}.output`, reasons);
  }
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}

function compileOutputFormat(format: string, zone: Zone, locale: string, path: string, reasons: Reason[]): DateWriter | null {
  const named = NAMED_OUTPUTS.find((name) => name.toLowerCase() === format.toLowerCase());
  if (named !== undefined) {
    reasons.push(reason(path, 'enum', `"${format}" is not an output; did you mean "${named}"?`));
    return null;
  }
  if (format.length === 0 || format.length > MAX_FORMAT) {
    reasons.push(reason(path, 'format', `must be one of ${NAMED_OUTPUTS.map((n) => `"${n}"`).join(', ')} or a Luxon format of 1 to ${MAX_FORMAT} characters`));
    return null;
  }
  const written: string[] = [];
  try {
    for (const probe of PROBES) written.push(DateTime.fromMillis(probe, { zone, locale }).toFormat(format));
  } catch (err) {
    reasons.push(reason(path, 'format', `cannot be used: ${(err as Error).message}`));
    return null;
  }
  // A format of literals only ("'today'") writes one text for every instant:
  // a spec error, not an output.
  if (written[0] === written[1]) {
    reasons.push(reason(path, 'format', `writes "${written[0] ?? ''}" for every date; use tokens such as yyyy, MM, dd, HH, mm (text in single quotes is literal)`));
    return null;
  }
  return (instant) => DateTime.fromMillis(instant, { zone, locale }).toFormat(format);
}
