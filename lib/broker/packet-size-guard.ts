/**
 * Follows the MQTT framing of a byte stream, fixed header by fixed header
 * [MQTT-2.2], to refuse a packet whose Remaining Length exceeds the limit as
 * soon as its header arrives. aedes' parser (mqtt-packet) buffers a packet
 * until it is complete, whatever length it announces: three sockets each
 * announcing 256 MB and streaming took a broker from 405 MB to over 1 GB
 * before any CONNECT (issue 20). This reads only the header bytes and skips
 * the bodies, so it holds no data.
 */
export type GuardVerdict = { ok: true } | { ok: false; why: string };

export interface PacketSizeGuard {
  feed(chunk: Uint8Array): GuardVerdict;
}

/**
 * `maxConnectBytes` bounds the first packet, the CONNECT [MQTT-3.1.0-1]:
 * before it nobody is authenticated, so what an anonymous socket can make the
 * broker hold is far smaller than what a user's PUBLISH may carry.
 */
export function createPacketSizeGuard(maxPacketBytes: number, maxConnectBytes = maxPacketBytes): PacketSizeGuard {
  let first = true;
  // 'type': the next byte starts a packet; 'length': inside the Remaining Length; 'body': skipping.
  let state: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let remaining = 0;
  let refused: GuardVerdict | undefined;

  return {
    feed(chunk) {
      if (refused) return refused;
      let i = 0;
      while (i < chunk.length) {
        if (state === 'body') {
          const skip = Math.min(remaining, chunk.length - i);
          remaining -= skip;
          i += skip;
          if (remaining === 0) state = 'type';
          continue;
        }
        const byte = chunk[i] as number;
        i += 1;
        if (state === 'type') {
          state = 'length';
          length = 0;
          multiplier = 1;
          lengthBytes = 0;
          continue;
        }
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes += 1;
        if ((byte & 0x80) !== 0) {
          // The Remaining Length is at most four bytes [MQTT-2.2.3].
          if (lengthBytes === 4) return (refused = { ok: false, why: 'malformed Remaining Length (more than 4 bytes)' });
          continue;
        }
        const total = 1 + lengthBytes + length;
        const limit = first ? Math.min(maxConnectBytes, maxPacketBytes) : maxPacketBytes;
        first = false;
        if (total > limit) return (refused = { ok: false, why: `packet of ${total} bytes announced, the limit is ${limit}` });
        remaining = length;
        state = remaining === 0 ? 'type' : 'body';
      }
      return { ok: true };
    },
  };
}
