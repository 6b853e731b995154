import type { Reason } from '../reasons';

/**
 * Why a stage refused a message (docs/message-contract.md, Reasons). A
 * dead letter read back adds `site` and `time`, so further members are allowed.
 */
export interface Rejection {
  stage: string;
  reasons: Reason[];
  /**
   * True when the record was refused for the site's state, not for its own
   * content (no catalog yet, no policy in force, the outbox full or unable to
   * write): the same record is expected to pass later, so a source can retry
   * it (an HTTP flow answers 503). Absent on a final refusal
   * (docs/message-contract.md, Transient refusals).
   */
  transient?: true;
  [more: string]: unknown;
}

/**
 * What flows between the pack's nodes. `cdm` is typed unknown on purpose: a
 * flow can put anything there, so it is read through readEnvelope(), never
 * trusted by its type. Node-RED's own members (`_msgid`, `topic`) and those
 * a flow adds pass through untouched.
 */
export interface PipelineMessage {
  payload?: unknown;
  cdm?: unknown;
  reject?: Rejection;
  topic?: string;
  /** A correlation given by the flow, carried into the envelope cdm-map makes. */
  correlationId?: unknown;
  /** A W3C traceparent given by the flow, carried like correlationId. */
  traceparent?: unknown;
  /** A synthetic transaction's nonce (lib/fleet/probe-mark.ts): cdm-map carries it into the envelope; counters leave the message out. */
  probe?: unknown;
  /** The entry mark an entry that redelivers sets (entry-mark.ts); cdm-map makes the envelope id from it. */
  tectonic?: unknown;
  _msgid?: string;
  [other: string]: unknown;
}
