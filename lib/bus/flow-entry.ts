import type { IPublishPacket } from 'mqtt';
import type { FlowControl } from '../flow/flow-control';
import type { ReleaseAck } from './bus-client';
import type { InboundDecoder } from './inbound-decoder';

type Send = (msg: Record<string, unknown>) => void;

/**
 * How bus-subscribe hands what it decodes to the flow. Under flow control a
 * record's PUBACK waits until it has finished in the flow
 * (docs/message-contract.md), and one refused as transient is made again
 * from the bytes that arrived (FlowControl.emit); without flow control the
 * message is sent and that is all. The decoder delivers synchronously inside
 * receive(), which holds the acknowledgement and the bytes of the message at
 * hand for `deliver`, the decoder sink's.
 */
export class FlowEntry {
  private readonly flow: FlowControl | undefined;
  private readonly send: Send;
  private deferAck: (() => ReleaseAck) | undefined;
  private again: (() => Record<string, unknown> | undefined) | undefined;

  constructor(flow: FlowControl | undefined, send: Send) {
    this.flow = flow;
    this.send = send;
  }

  /** Decodes one MQTT message with `decoder`, whose sink delivers through `deliver`. */
  receive(decoder: InboundDecoder, topic: string, payload: Buffer, packet: IPublishPacket, defer: () => ReleaseAck): void {
    if (this.flow === undefined) return decoder.receive(topic, payload, packet);
    this.deferAck = defer;
    this.again = () => decoder.again(topic, payload, packet);
    try {
      decoder.receive(topic, payload, packet);
    } finally {
      this.deferAck = undefined;
      this.again = undefined;
    }
  }

  /** The decoder sink's deliver: into the flow, tracked (and acknowledged once finished) under flow control. */
  readonly deliver = (msg: Record<string, unknown>): void => {
    if (this.flow === undefined) this.send(msg);
    else this.flow.emit(msg, this.send, this.deferAck?.(), this.again);
  };
}
