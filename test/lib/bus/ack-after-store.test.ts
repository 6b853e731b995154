// lib/bus/ack-after-store.ts against a fake broker whose publishes complete
// when the test says: which packets it publishes before the PUBACK, that the
// publish after the PUBACK is skipped, and that the PUBACKs of one connection
// are released in arrival order whatever order the stores complete in. The
// real broker: test/lib/bus/embedded-broker-crash.test.ts; the aedes
// behaviour relied on: test/lib/bus/aedes-contract.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { createAckAfterStore } from '../../../lib/bus/ack-after-store';

type Done = (error?: Error | null) => void;

interface FakeBroker {
  publish: (packet: object, client?: object | null | Done, done?: Done) => void;
  /** What reached the original publish, and how to complete each. */
  calls: Array<{ packet: object; complete: Done }>;
}

function fakeBroker(): FakeBroker {
  const calls: FakeBroker['calls'] = [];
  return {
    calls,
    publish(packet, client, done) {
      const callback: Done | undefined = typeof client === 'function' ? (client as Done) : done;
      calls.push({
        packet,
        complete: (error) => {
          callback?.(error ?? null);
        },
      });
    },
  };
}

function setup(): { broker: FakeBroker; ack: ReturnType<typeof createAckAfterStore>; outcomes: string[]; authorize: (client: object | null, packet: object, name: string) => void } {
  const broker = fakeBroker();
  const ack = createAckAfterStore();
  ack.install(broker);
  const outcomes: string[] = [];
  return {
    broker,
    ack,
    outcomes,
    authorize: (client, packet, name) => {
      ack.authorizePublish(client, packet, (error) => outcomes.push(error ? `${name}: ${error.message}` : `${name}: ok`));
    },
  };
}

const publish = (qos: number, topic = 'cdm/shipment/v1/site-a'): object => ({ cmd: 'publish', qos, topic });

describe('lib/bus/ack-after-store', () => {
  describe('what is authorized at once, on aedes\' own path', () => {
    const client = {};
    const cases: Array<{ name: string; client: object | null; packet: object; outcome: string }> = [
      { name: 'QoS 0', client, packet: publish(0), outcome: 'QoS 0: ok' },
      { name: 'QoS 2 (aedes stores first already)', client, packet: publish(2), outcome: 'QoS 2 (aedes stores first already): ok' },
      { name: 'a will (no cmd)', client, packet: { qos: 1, topic: 'site/a/status' }, outcome: 'a will (no cmd): ok' },
      { name: 'a will published with no client', client: null, packet: publish(1), outcome: 'a will published with no client: ok' },
      { name: '$SYS/ from a client', client, packet: publish(1, '$SYS/broker/x'), outcome: '$SYS/ from a client: $SYS/ topic is reserved' },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const { broker, outcomes, authorize } = setup();
        authorize(c.client, c.packet, c.name);
        assert.deepEqual(outcomes, [c.outcome]);
        assert.equal(broker.calls.length, 0, 'nothing published before the callback');
      });
    }
  });

  it('publishes a QoS 1 PUBLISH before calling back, once its publish completed, and the publish after the PUBACK is skipped', () => {
    const { broker, outcomes, authorize } = setup();
    const client = {};
    const packet = publish(1);
    authorize(client, packet, 'm1');
    assert.equal(broker.calls.length, 1);
    assert.equal(broker.calls[0]?.packet, packet);
    assert.deepEqual(outcomes, [], 'no PUBACK before the message is stored');
    broker.calls[0]?.complete(null);
    assert.deepEqual(outcomes, ['m1: ok']);

    let skipped: unknown = 'not called';
    broker.publish(packet, client, (error) => (skipped = error));
    assert.equal(skipped, null, "aedes' publish after the PUBACK completes at once");
    assert.equal(broker.calls.length, 1, 'and publishes nothing again');

    broker.publish(packet, client, () => undefined);
    assert.equal(broker.calls.length, 2, 'a later publish of the same object is not skipped');
  });

  it("releases one connection's PUBACKs in arrival order [MQTT-4.6.0-2], whatever order the stores complete in", () => {
    const { broker, outcomes, authorize } = setup();
    const client = {};
    for (const name of ['m1', 'm2', 'm3']) authorize(client, publish(1), name);
    const [m1, m2, m3] = broker.calls;
    m3?.complete(null);
    assert.deepEqual(outcomes, []);
    m1?.complete(null);
    assert.deepEqual(outcomes, ['m1: ok']);
    m2?.complete(null);
    assert.deepEqual(outcomes, ['m1: ok', 'm2: ok', 'm3: ok']);
  });

  it('does not hold one connection behind another', () => {
    const { broker, outcomes, authorize } = setup();
    authorize({}, publish(1), 'a1');
    authorize({}, publish(1), 'b1');
    broker.calls[1]?.complete(null);
    assert.deepEqual(outcomes, ['b1: ok']);
  });

  it('does not acknowledge a message whose publish failed: the error goes to aedes, which closes the connection', () => {
    const { broker, outcomes, authorize } = setup();
    const client = {};
    authorize(client, publish(1), 'm1');
    authorize(client, publish(1), 'm2');
    broker.calls[1]?.complete(null);
    broker.calls[0]?.complete(new Error('LevelDB write failed'));
    assert.deepEqual(outcomes, ['m1: LevelDB write failed', 'm2: ok']);
  });

  it('install() twice is a programming error', () => {
    const ack = createAckAfterStore();
    ack.install(fakeBroker());
    assert.throws(() => ack.install(fakeBroker()), /install\(\) called twice/);
  });
});
