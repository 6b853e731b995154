// DeferredAcks on its own: which PUBACKs are written, in which order, as
// records finish; a connection that closes forgets them.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { DeferredAcks, type PubackPacket, type ReleaseAck } from '../../../lib/bus/deferred-acks';

function puback(messageId: number): PubackPacket {
  return { cmd: 'puback', messageId };
}

/** A queue whose writes are recorded by packet id. */
function queue(): { acks: DeferredAcks; written: number[] } {
  const written: number[] = [];
  return { acks: new DeferredAcks((packet) => written.push(packet.messageId ?? -1)), written };
}

describe('lib/bus/deferred-acks', () => {
  // Each step: 'r<id>' routes a message and defers it, 'p<id>' MQTT.js makes its PUBACK,
  // 'n<id>' a message nobody defers gets its PUBACK, 'f<id>' its record finishes,
  // 'a<id>' it is abandoned, 'x' the connection closes.
  const cases: Array<{ name: string; steps: string[]; written: number[]; passed: number[] }> = [
    { name: 'a deferred PUBACK waits for its record', steps: ['r1', 'p1'], written: [], passed: [] },
    { name: 'and goes once it has finished', steps: ['r1', 'p1', 'f1'], written: [1], passed: [] },
    { name: 'a record that finished before MQTT.js made its PUBACK: the PUBACK goes at once', steps: ['r1', 'f1', 'p1'], written: [1], passed: [] },
    { name: 'finished out of order: written in arrival order [MQTT-4.6.0-2]', steps: ['r1', 'p1', 'r2', 'p2', 'r3', 'p3', 'f3', 'f2', 'f1'], written: [1, 2, 3], passed: [] },
    { name: 'the head holds those behind it', steps: ['r1', 'p1', 'r2', 'p2', 'f2'], written: [], passed: [] },
    { name: 'a message nobody defers passes straight through when nothing waits', steps: ['n7'], written: [], passed: [7] },
    { name: 'but queues behind a withheld one', steps: ['r1', 'p1', 'n7', 'f1'], written: [1, 7], passed: [] },
    { name: 'an abandoned record sends no PUBACK and holds nothing up', steps: ['r1', 'p1', 'r2', 'p2', 'a1', 'f2'], written: [2], passed: [] },
    { name: 'a close forgets everything: a later finish writes nothing', steps: ['r1', 'p1', 'x', 'f1'], written: [], passed: [] },
    { name: 'after a close, the next connection starts empty', steps: ['r1', 'p1', 'x', 'n1'], written: [], passed: [1] },
    { name: 'a packet id reused after its PUBACK went is a new entry', steps: ['r1', 'p1', 'f1', 'r1', 'p1', 'f1'], written: [1, 1], passed: [] },
  ];
  for (const { name, steps, written: expectedWritten, passed: expectedPassed } of cases) {
    it(name, () => {
      const { acks, written } = queue();
      const passed: number[] = [];
      const releases = new Map<number, ReleaseAck>();
      for (const step of steps) {
        const id = Number(step.slice(1));
        switch (step[0]) {
          case 'r':
            releases.set(id, acks.defer(id));
            break;
          case 'p':
            assert.equal(acks.withhold(puback(id)), true, `${step}: withheld`);
            break;
          case 'n':
            if (!acks.withhold(puback(id))) passed.push(id);
            break;
          case 'f':
            releases.get(id)?.('finished');
            break;
          case 'a':
            releases.get(id)?.('abandoned');
            break;
          case 'x':
            acks.forget();
            break;
        }
      }
      assert.deepEqual(written, expectedWritten);
      assert.deepEqual(passed, expectedPassed);
    });
  }

  it('a message routed to two handlers that both defer it: its PUBACK waits for both', () => {
    const { acks, written } = queue();
    const first = acks.defer(5);
    const second = acks.defer(5);
    acks.withhold(puback(5));
    first();
    first();
    assert.deepEqual(written, [], 'a release counts once');
    second();
    assert.deepEqual(written, [5]);
    assert.equal(acks.size, 0);
  });

  it('thousands in flight, released from the head: every one written once, in order', () => {
    const { acks, written } = queue();
    const releases: ReleaseAck[] = [];
    for (let id = 1; id <= 5000; id++) {
      releases.push(acks.defer(id));
      acks.withhold(puback(id));
    }
    for (const release of releases) release();
    assert.equal(written.length, 5000);
    assert.ok(written.every((id, i) => id === i + 1));
    assert.equal(acks.size, 0);
  });
});
