import { randomFillSync } from 'node:crypto';
import { isTraceparent } from '../envelope/envelope';
import { envelopeOf } from '../envelope/read-envelope';

/**
 * W3C Trace Context for records (issue 16, item 7): cdm-map continues the
 * trace a record arrives with, or starts one, and the envelope carries it as
 * the CloudEvents distributed-tracing extension `traceparent` across the bus
 * to bus-subscribe, which sets msg.traceparent again.
 *
 * Continued, unchanged, from the first of: msg.traceparent, an earlier
 * envelope's, msg.headers.traceparent (HTTP in), msg.req.headers.traceparent,
 * msg.userProperties.traceparent (MQTT 5 in). Started, sampled, for that
 * share of the records without one when the node has a sampling rate; the
 * rest start none. cdm-map is then the trace's root, and an unsampled root
 * is recorded by no one downstream: carrying it would cost every record its
 * bytes and parsing for nothing (issue 19: the fleet's parts within 5%).
 */
export class TraceContext {
  private readonly pool = Buffer.alloc(24 * 256);
  private next: number;

  /** `sampleRate` undefined: traces are continued, never started. */
  constructor(
    readonly sampleRate: number | undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.next = this.pool.length;
  }

  /** The traceparent a record made from `msg` carries, or undefined. */
  forRecord(msg: { traceparent?: unknown; cdm?: unknown; headers?: unknown; req?: unknown; userProperties?: unknown }): string | undefined {
    const found = carried(msg);
    if (found !== undefined || this.sampleRate === undefined) return found;
    return this.random() < this.sampleRate ? this.start(true) : undefined;
  }

  /**
   * A new traceparent, version 00: 16 random bytes of trace id, 8 of parent
   * id, drawn from a pool filled 6 KiB at a time (one system call per 256
   * traces, not per record). An all-zero id is invalid [W3C Trace Context
   * 3.2.2.3, 3.2.2.4]; the chance is 2^-64 at worst, and it is redrawn.
   */
  start(sampled: boolean): string {
    for (;;) {
      if (this.next === this.pool.length) {
        randomFillSync(this.pool);
        this.next = 0;
      }
      const at = this.next;
      this.next += 24;
      // The zero test on the bytes and one hex text for both ids: this runs for every record of a sampling cdm-map (issue 19).
      if (allZero(this.pool, at, at + 16) || allZero(this.pool, at + 16, at + 24)) continue;
      const ids = this.pool.toString('hex', at, at + 24);
      return `00-${ids.slice(0, 32)}-${ids.slice(32)}-${sampled ? '01' : '00'}`;
    }
  }
}

function allZero(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function carried(msg: { traceparent?: unknown; cdm?: unknown; headers?: unknown; req?: unknown; userProperties?: unknown }): string | undefined {
  if (isTraceparent(msg.traceparent)) return msg.traceparent;
  const earlier = envelopeOf(msg.cdm)?.traceparent;
  if (isTraceparent(earlier)) return earlier;
  if (msg.headers === undefined && msg.req === undefined && msg.userProperties === undefined) return undefined;
  for (const holder of [msg.headers, headersOf(msg.req), msg.userProperties]) {
    const value = typeof holder === 'object' && holder !== null ? (holder as Record<string, unknown>).traceparent : undefined;
    if (isTraceparent(value)) return value;
  }
  return undefined;
}

function headersOf(req: unknown): unknown {
  return typeof req === 'object' && req !== null ? (req as { headers?: unknown }).headers : undefined;
}

/** The `traceSampling` setting: '' none (continue only), else a share from 0 to 1. */
export function parseTraceSampling(raw: unknown): { ok: true; value: number | undefined } | { ok: false; problem: string } {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (text === '') return { ok: true, value: undefined };
  const rate = Number(text);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) return { ok: false, problem: `trace sampling must be a share from 0 to 1 (or empty to only continue traces), got "${text}"` };
  return { ok: true, value: rate };
}
