// MQTT 3.1.1 packets built byte by byte [MQTT-2], and their mutations, for the
// broker's memory and fuzz tests: what a raw socket can send that MQTT.js never would.
const utf8 = (text: string): Buffer => {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};

export function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
}

const frame = (first: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);

export function connectPacket(clientId: string, options: { username?: string; password?: string; clean?: boolean; keepalive?: number } = {}): Buffer {
  const flags = (options.username !== undefined ? 0x80 : 0) | (options.password !== undefined ? 0x40 : 0) | (options.clean === false ? 0 : 0x02);
  const keepalive = options.keepalive ?? 30;
  const body = Buffer.concat([
    utf8('MQTT'),
    Buffer.from([4, flags, keepalive >> 8, keepalive & 0xff]),
    utf8(clientId),
    options.username !== undefined ? utf8(options.username) : Buffer.alloc(0),
    options.password !== undefined ? utf8(options.password) : Buffer.alloc(0),
  ]);
  return frame(0x10, body);
}

export const publishPacket = (topic: string, payload: Buffer, retain = false): Buffer => frame(0x30 | (retain ? 1 : 0), Buffer.concat([utf8(topic), payload]));
export const subscribePacket = (id: number, filter: string): Buffer => frame(0x82, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), utf8(filter), Buffer.from([1])]));
export const unsubscribePacket = (id: number, filter: string): Buffer => frame(0xa2, Buffer.concat([Buffer.from([id >> 8, id & 0xff]), utf8(filter)]));
export const PINGREQ = Buffer.from([0xc0, 0]);

/** A seeded generator (mulberry32), so a failing fuzz run can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One of: a byte flipped, a cut, bytes inserted, the length field replaced, or pure noise. */
export function mutate(packet: Buffer, random: () => number): Buffer {
  const at = Math.floor(random() * packet.length);
  const copy = Buffer.from(packet);
  switch (Math.floor(random() * 6)) {
    case 0:
      copy[at] = Math.floor(random() * 256);
      return copy;
    case 1:
      return copy.subarray(0, at);
    case 2:
      return Buffer.concat([copy.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(random() * 16) }, () => Math.floor(random() * 256))), copy.subarray(at)]);
    case 3:
      return Buffer.concat([copy.subarray(0, 1), remainingLength(Math.floor(random() * 268_435_455)), copy.subarray(2)]);
    case 4:
      return Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
    default:
      return copy;
  }
}
