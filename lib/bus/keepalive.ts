import type { MqttClient } from 'mqtt';

/**
 * While a PUBLISH is held, the PINGRESP behind it is not read either: that
 * is not a dead broker, so the keepalive timeout starts over instead, with
 * a PINGREQ now so the broker still hears from us within the keepalive
 * [MQTT-3.1.2-24]. A connection that really died meanwhile is noticed once
 * reading resumes.
 */
export function keepAliveWhileHeld(client: MqttClient, waitingForAck: () => boolean): void {
  const keepaliveTimeout = client.onKeepaliveTimeout.bind(client);
  client.onKeepaliveTimeout = () => {
    if (!waitingForAck()) return keepaliveTimeout();
    client.sendPing();
    client.reschedulePing(true);
  };
}
