// parseGateSettings: how policy-gate's config says the records leave the site.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type GateBus, type GateConfig, type GateSettings, parseGateSettings } from '../../../lib/policy/gate-settings';

describe('parseGateSettings', () => {
  const cases: Array<[string, GateConfig, GateBus | undefined, GateSettings]> = [
    ['mqtts bus: TLS', { bus: 'b1' }, { url: 'mqtts://broker:8883' }, { transport: { tls: true } }],
    ['wss bus: TLS', { bus: 'b1' }, { url: 'wss://broker/mqtt' }, { transport: { tls: true } }],
    ['mqtt bus: plain', { bus: 'b1' }, { url: 'mqtt://broker:1883' }, { transport: { tls: false } }],
    ['ws bus: plain', { bus: 'b1' }, { url: 'ws://broker/mqtt' }, { transport: { tls: false } }],
    ['mqtt to this machine (127.0.0.1): no network crossed, passes as bus-publish has it', { bus: 'b1' }, { url: 'mqtt://127.0.0.1:1883' }, { transport: { tls: true } }],
    ['mqtt to [::1] and localhost: the same', { bus: 'b1' }, { url: 'mqtt://[::1]:1883' }, { transport: { tls: true } }],
    ['mqtt to 127.0.0.1.example.com is not loopback', { bus: 'b1' }, { url: 'mqtt://127.0.0.1.example.com:1883' }, { transport: { tls: false } }],
    ['the bus wins over the technician’s word', { bus: 'b1', tls: 'tls' }, { url: 'mqtt://broker' }, { transport: { tls: false } }],
    [
      'a bus that cannot be found: unknown, with a warning',
      { bus: 'b1' },
      { problem: 'the tectonic-bus config is missing' },
      { transport: undefined, warning: 'policy-gate: the bus it checks for TLS: the tectonic-bus config is missing; its transport counts as unknown' },
    ],
    ['no bus, said TLS', { tls: 'tls' }, undefined, { transport: { tls: true } }],
    ['no bus, said plain', { tls: 'plain' }, undefined, { transport: { tls: false } }],
    ['no bus, nothing said: unknown', { tls: '' }, undefined, { transport: undefined }],
    ['no config at all: unknown', {}, undefined, { transport: undefined }],
  ];
  for (const [name, config, bus, expected] of cases) it(name, () => assert.deepEqual(parseGateSettings(config, bus), expected));
});
