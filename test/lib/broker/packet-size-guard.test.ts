// The guard reads MQTT fixed headers [MQTT-2.2] across any chunking and
// refuses a packet announced over the limit before its body arrives.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { createPacketSizeGuard } from '../../../lib/broker/packet-size-guard';

function remainingLength(n: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return bytes;
}
const packet = (type: number, bodyBytes: number): Buffer => Buffer.concat([Buffer.from([type, ...remainingLength(bodyBytes)]), Buffer.alloc(bodyBytes, 7)]);

describe('lib/broker/packet-size-guard', () => {
  it('passes packets within the limit, whole or a byte at a time', () => {
    const stream = Buffer.concat([packet(0x10, 20), packet(0x30, 1000), packet(0xc0, 0), packet(0x30, 200_000)]);
    const whole = createPacketSizeGuard(300_000);
    assert.deepEqual(whole.feed(stream), { ok: true });
    const bytewise = createPacketSizeGuard(300_000);
    for (const byte of stream) assert.deepEqual(bytewise.feed(Buffer.from([byte])), { ok: true });
  });
  it('refuses a 256 MB announcement from its header alone', () => {
    const guard = createPacketSizeGuard(1024 * 1024);
    const verdict = guard.feed(Buffer.from([0x10, ...remainingLength(268_435_455)]));
    assert.equal(verdict.ok, false);
    if (!verdict.ok) assert.match(verdict.why, /268435460 bytes announced, the limit is 1048576/);
    assert.equal(guard.feed(Buffer.alloc(10)).ok, false, 'stays refused');
  });
  it('refuses the limit plus one, passes the limit', () => {
    assert.equal(createPacketSizeGuard(102).feed(packet(0x30, 100)).ok, true);
    assert.equal(createPacketSizeGuard(101).feed(packet(0x30, 100)).ok, false);
  });
  it('holds the first packet (CONNECT, before authentication) to its own smaller limit', () => {
    const guard = createPacketSizeGuard(1_000_000, 1000);
    assert.equal(guard.feed(packet(0x10, 500)).ok, true);
    assert.equal(guard.feed(packet(0x30, 5000)).ok, true, 'later packets get the packet limit');
    const verdict = createPacketSizeGuard(1_000_000, 1000).feed(packet(0x10, 5000));
    assert.equal(verdict.ok, false);
    if (!verdict.ok) assert.match(verdict.why, /the limit is 1000$/);
  });
  it('refuses a Remaining Length of more than four bytes [MQTT-2.2.3]', () => {
    const verdict = createPacketSizeGuard(1 << 30).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    assert.equal(verdict.ok, false);
  });
  it('finds a second oversized packet after a good one split over chunks', () => {
    const guard = createPacketSizeGuard(5000);
    const stream = Buffer.concat([packet(0x30, 3000), Buffer.from([0x30, ...remainingLength(10_000)])]);
    assert.equal(guard.feed(stream.subarray(0, 1500)).ok, true);
    assert.equal(guard.feed(stream.subarray(1500)).ok, false);
  });
});
