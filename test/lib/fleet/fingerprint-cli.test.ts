// `tectonic template fingerprint`: the same fingerprint the heartbeat reports,
// from a flows file, printed and published retained for the monitor.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import mqtt from 'mqtt';
import { flowsFingerprint } from '../../../lib/fleet/fingerprint';
import { startEmbeddedBroker } from '../../../lib/bus/embedded-broker';
import { tectonic } from '../../support/tectonic-cli';

const flows = [
  { id: 't', type: 'tab', label: 'agent' },
  { id: 'a', type: 'cdm-map', z: 't', entity: 'shipment', version: '1.1.0', rules: [], wires: [['b'], []] },
  { id: 'b', type: 'bus-publish', z: 't', bus: 'bus', wires: [[]] },
  { id: 'bus', type: 'tectonic-bus', mode: 'external', url: '${BUS_URL}' },
];

describe('cli: tectonic template fingerprint', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tectonic-template-'));
    writeFileSync(join(tmp, 'flows.json'), JSON.stringify(flows));
    writeFileSync(join(tmp, 'object.json'), '{}');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('prints the TemplateFingerprint the heartbeat compares with', async () => {
    const r = await tectonic(['template', 'fingerprint', join(tmp, 'flows.json'), '--name', 'site-agent', '--version', '2.1.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: 'site-agent', version: '2.1.0', fingerprint: flowsFingerprint(flows) });
  });

  it('the fingerprint alone without a name', async () => {
    const r = await tectonic(['template', 'fingerprint', join(tmp, 'flows.json')]);
    assert.equal(r.stdout, `${flowsFingerprint(flows)}\n`);
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['no subcommand', ['template'], /give "fingerprint"/],
    ['a file that is not a flows array', ['template', 'fingerprint', 'object.json'], /not a Node-RED flows file/],
    ['a name without a version', ['template', 'fingerprint', 'flows.json', '--name', 'x'], /go together/],
    ['a name that is not a topic level', ['template', 'fingerprint', 'flows.json', '--name', 'a/b', '--version', '1'], /one topic level/],
  ];
  for (const [what, args, message] of usage) {
    it(`exit 2: ${what}`, async () => {
      const r = await tectonic(args.map((a) => (a.endsWith('.json') ? join(tmp, a) : a)));
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
    });
  }

  it('--publish: retained on tectonic/templates/{name}, read back by a late subscriber', async function () {
    this.timeout(15_000);
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    const url = `mqtt://127.0.0.1:${broker.port}`;
    try {
      const r = await tectonic(['template', 'fingerprint', join(tmp, 'flows.json'), '--name', 'site-agent', '--version', '2.1.0', '--publish', url]);
      assert.equal(r.code, 0, r.stderr);
      const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
      const got = new Promise<string>((resolve) => client.on('message', (topic, payload, packet) => resolve(`${topic} ${String(packet.retain)} ${payload.toString('utf8')}`)));
      await client.subscribeAsync('tectonic/templates/#', { qos: 1 });
      assert.equal(await got, `tectonic/templates/site-agent true ${JSON.stringify({ name: 'site-agent', version: '2.1.0', fingerprint: flowsFingerprint(flows) })}`);
      await client.endAsync();
    } finally {
      await broker.close();
    }
  });
});
