import type { NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { QoS } from '../lib/bus/bus-client';
import type { SharedBusState } from '../lib/bus/shared-bus';
import { type WireMode, encodeMessage } from '../lib/envelope/cloudevents';
import { checkEnvelope } from '../lib/envelope/envelope';
import { canonicalTopic } from '../lib/envelope/topics';
import { type Reason, describeReasons } from '../lib/reasons';
import { findBus } from './support/bus-config';
import { busStatus, problemStatus } from './support/status';
import { StatusThrottle } from './support/status-throttle';

interface BusPublishDef extends NodeDef {
  bus: string;
  qos: string;
  wireMode: string;
}

type CdmMessage = NodeMessageInFlow & { cdm?: unknown; reject?: { stage: string; reasons: Reason[] } };

function rejectWith(msg: CdmMessage, reasons: Reason[], what: string): Error {
  msg.reject = { stage: 'bus-publish', reasons };
  return new Error(`bus-publish: ${what}: ${describeReasons(reasons)}`);
}

export = function (RED: NodeAPI): void {
  function BusPublish(this: import('node-red').Node, config: BusPublishDef): void {
    RED.nodes.createNode(this, config);
    const found = findBus(RED, config.bus);
    if ('problem' in found) {
      this.status(problemStatus(found.problem));
      this.on('input', (_msg, _send, done) => done(new Error(`bus-publish: ${found.problem}`)));
      return;
    }
    const bus = found.bus;
    const qos = (['0', '1', '2'].includes(config.qos) ? Number(config.qos) : 1) as QoS;
    let mode: WireMode = config.wireMode === 'binary' ? 'binary' : 'structured';
    if (mode === 'binary' && bus.protocolVersion !== 5) {
      // Binary mode needs MQTT 5 user properties; structured mode carries the same attributes on any version.
      this.warn('bus-publish: binary mode needs an MQTT 5 connection; publishing in structured mode');
      mode = 'structured';
    }

    const throttle = new StatusThrottle(this);
    let state: SharedBusState = bus.state;
    let sent = 0;
    const render = (): void => throttle.show(() => busStatus(state, `${sent} sent`));
    const stopWatching = bus.onState((next) => {
      state = next;
      render();
    });

    this.on('input', (input, send, done) => {
      const msg = input as CdmMessage;
      const envelope = checkEnvelope(msg.cdm);
      if (!envelope.ok) {
        done(rejectWith(msg, envelope.reasons, 'msg.cdm is not a usable envelope (set it with cdm-map)'));
        return;
      }
      const wire = encodeMessage(envelope.value, msg.payload, mode);
      if (!wire.ok) {
        done(rejectWith(msg, wire.reasons, 'the record cannot be published'));
        return;
      }
      const topic = canonicalTopic(envelope.value);
      bus.publish(topic, wire.value.payload, { qos, properties: wire.value.properties }).then(
        () => {
          sent += 1;
          render();
          msg.topic = topic;
          send(msg);
          done();
        },
        (err: Error) => done(err),
      );
    });

    this.on('close', (done: () => void) => {
      stopWatching();
      throttle.stop();
      done();
    });
  }

  RED.nodes.registerType('bus-publish', BusPublish);
};
