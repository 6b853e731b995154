import { randomBytes } from 'node:crypto';

/**
 * `_msgid`s for the records an entry node sends into a flow: a random prefix
 * per source and a counter, so unique within the runtime like Node-RED's own
 * (RED.util.generateId, sixteen random hex digits made one at a time), at a
 * fraction of the cost. Flow control follows each record by this id.
 */
export function messageIdSource(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let next = 0;
  return () => `${prefix}${(next++).toString(36)}`;
}
