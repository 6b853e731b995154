import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { type FlowNode, prepareFlow } from '../../../lib/certify/flow-harness';

/** The transport certify's stand-in gate judges for a gate on `bus`, as the real gate would on the site's own bus. */
function judged(bus: Record<string, unknown>, env: Record<string, string> = {}): unknown {
  const flows: FlowNode[] = [
    { id: 'tab', type: 'tab' },
    { id: 'entry', type: 'bus-subscribe', z: 'tab', kind: 'records', topic: 'site/x/records', bus: 'local', wires: [['gate']] },
    { id: 'gate', type: 'policy-gate', z: 'tab', bus: 'central', wires: [[], []] },
    { id: 'local', type: 'tectonic-bus', mode: 'embedded', host: '127.0.0.1', port: '1884' },
    { id: 'central', type: 'tectonic-bus', ...bus },
  ];
  const prepared = prepareFlow(flows, { busUrl: 'mqtt://127.0.0.1:1', installedTypes: new Set(['bus-subscribe', 'policy-gate', 'tectonic-bus']), env });
  return prepared.flows.find((n) => n.id === 'gate')?.tls;
}

describe('certify: the transport a policy-gate judges on the private bus', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, string>, string]> = [
    ['a TLS URL', { mode: 'external', url: 'mqtts://bus.example.com:8883' }, {}, 'tls'],
    ['a TLS config node', { mode: 'external', url: 'mqtt://bus.example.com:1883', tls: 'tls-node' }, {}, 'tls'],
    ['plaintext across the network', { mode: 'external', url: 'mqtt://bus.example.com:1883' }, {}, 'plain'],
    ['plaintext to loopback (crosses no network)', { mode: 'external', url: 'mqtt://127.0.0.1:21883' }, {}, 'tls'],
    ['plaintext to IPv6 loopback', { mode: 'external', url: 'mqtt://[::1]:21883' }, {}, 'tls'],
    ['a URL from the environment', { mode: 'external', url: '${TECTONIC_BUS_URL}' }, { TECTONIC_BUS_URL: 'mqtt://10.0.0.5:1883' }, 'plain'],
    ['an embedded bus on loopback', { mode: 'embedded', host: '127.0.0.1', port: '1883' }, {}, 'tls'],
    ['an embedded bus on every interface', { mode: 'embedded', host: '0.0.0.0', port: '1883' }, {}, 'plain'],
  ];
  for (const [what, bus, env, expected] of cases) {
    it(`${what}: ${expected === 'tls' ? 'passes' : 'plaintext'}`, () => assert.equal(judged(bus, env), expected));
  }
});
