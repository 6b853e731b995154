// Shipment events as the FRA warehouse system exports them
// (test/fixtures/logistics/fra-wms.*): German dates in Berlin local time,
// status codes, decimal commas, untrimmed ids and carrier names. Each record is
// generated from its canonical form, so the expected output is known without
// running any mapping code: the checker compares against values the bench
// chose, not against what a mapper computed.
import { DateTime } from 'luxon';

/** The canonical shipment 1.1.0 the pipeline must produce, after masking. */
export interface CanonicalShipment {
  shipmentId: string;
  occurredAt: string;
  status: string;
  weightKg: number;
  siteId: string;
  carrier?: { name: string };
}

/** About 1% of the records are invalid, each of one of these kinds. */
export const INVALID_KINDS = ['impossible-date', 'unknown-status', 'negative-weight', 'weight-as-list', 'weight-as-boolean'] as const;
export type InvalidKind = (typeof INVALID_KINDS)[number];

/** The policy's mask on carrier.name: `partial`, keeping the last 2 characters (lib/policy/masks.ts partialValue). */
export const CARRIER_KEEP = 2;

const STATUS_CODES: ReadonlyArray<[string, string]> = [['AN', 'created'], ['UW', 'in_transit'], ['ZU', 'delivered'], ['RT', 'returned']];
const CARRIERS = [' dhl ', 'DHL', 'Rhenus', 'dachser', 'DB Schenker', ' Kuehne+Nagel', 'UPS', 'dhl freight'];
const TEMPLATES = 4096;
const germanNumber = new Intl.NumberFormat('de-DE', { useGrouping: true, maximumFractionDigits: 2 });

interface Template {
  local: Record<string, unknown>;
  expected: Omit<CanonicalShipment, 'shipmentId'>;
  padId: boolean;
}

/** mulberry32: a small seeded generator, so every run sends the same records. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function masked(name: string): string {
  const chars = [...name];
  if (chars.length <= CARRIER_KEEP) return '*'.repeat(chars.length);
  return '*'.repeat(chars.length - CARRIER_KEEP) + chars.slice(-CARRIER_KEEP).join('');
}

function buildTemplates(): Template[] {
  const random = seeded(20261124);
  const yearStart = DateTime.fromISO('2026-01-01T00:00', { zone: 'Europe/Berlin' });
  const templates: Template[] = [];
  for (let i = 0; i < TEMPLATES; i++) {
    // Working hours only (06:00-21:59 local): the hour that repeats when
    // clocks go back is ambiguous in a local format, and no warehouse shift
    // writes records then anyway.
    const local = yearStart.plus({ days: Math.floor(random() * 365) }).set({ hour: 6 + Math.floor(random() * 16), minute: Math.floor(random() * 60) });
    const [code, status] = STATUS_CODES[Math.floor(random() * STATUS_CODES.length)] as [string, string];
    const weightKg = Math.round(1 + random() * 250_000) / 100;
    const carrier = random() < 0.8 ? CARRIERS[Math.floor(random() * CARRIERS.length)] : undefined;
    const record: Record<string, unknown> = { Sendung: '', Zeitpunkt: local.toFormat('dd.MM.yyyy HH:mm'), Status: code, Gewicht: germanNumber.format(weightKg), Standort: 'FRA1' };
    if (carrier !== undefined) record.Spediteur = carrier;
    const expected: Omit<CanonicalShipment, 'shipmentId'> = { occurredAt: local.toUTC().toISO() ?? '', status, weightKg, siteId: 'hub-fra' };
    if (carrier !== undefined) expected.carrier = { name: masked(carrier.trim().toUpperCase()) };
    templates.push({ local: record, expected, padId: random() < 0.15 });
  }
  return templates;
}

const templates = buildTemplates();

/** Record `seq` of phase `phase` is invalid when this says which way. */
export function invalidKind(seq: number): InvalidKind | undefined {
  if (seq % 100 !== 37) return undefined;
  return INVALID_KINDS[Math.floor(seq / 100) % INVALID_KINDS.length];
}

export function shipmentId(phase: number, seq: number): string {
  return `SHP-${phase}-${seq}`;
}

/** `SHP-<phase>-<seq>` back to its numbers; undefined for anything else. */
export function parseShipmentId(id: unknown): { phase: number; seq: number } | undefined {
  if (typeof id !== 'string') return undefined;
  const match = /^\s*SHP-(\d+)-(\d+)\s*$/.exec(id);
  if (!match) return undefined;
  return { phase: Number(match[1]), seq: Number(match[2]) };
}

/** The local record as the warehouse exports it. */
export function localRecord(phase: number, seq: number): Record<string, unknown> {
  const template = templates[seq % TEMPLATES] as Template;
  const id = shipmentId(phase, seq);
  const record: Record<string, unknown> = { ...template.local, Sendung: template.padId ? ` ${id} ` : id };
  switch (invalidKind(seq)) {
    case 'impossible-date':
      record.Zeitpunkt = '31.02.2026 10:15';
      break;
    case 'unknown-status':
      record.Status = 'XY';
      break;
    case 'negative-weight':
      record.Gewicht = '-12,5';
      break;
    case 'weight-as-list':
      record.Gewicht = ['12,5'];
      break;
    case 'weight-as-boolean':
      record.Gewicht = true;
      break;
    case undefined:
      break;
  }
  return record;
}

/** The canonical, masked record a valid input must become. */
export function expectedCanonical(phase: number, seq: number): CanonicalShipment {
  const template = templates[seq % TEMPLATES] as Template;
  return { shipmentId: shipmentId(phase, seq), ...template.expected };
}
