// GET /tectonic/metrics honours the admin API's authentication: a real
// Node-RED process with adminAuth refuses an anonymous scrape (401) and
// answers one with a token (Prometheus text with the pipeline's counters).
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type NodeRedProcess, repoRoot, startNodeRed, waitFor } from '../support/node-red-process';

const requireHere = createRequire(join(repoRoot, 'package.json'));
const bcrypt = requireHere('bcryptjs') as { hashSync(password: string, rounds: number): string };

describe('GET /tectonic/metrics behind adminAuth', function () {
  this.timeout(90_000);
  let red: NodeRedProcess;

  before(async () => {
    red = await startNodeRed({
      settings: {
        // Anonymous users may read the settings (so the runtime's start can be seen), nothing else.
        adminAuth: { type: 'credentials', users: [{ username: 'ops', password: bcrypt.hashSync('scrape-me', 8), permissions: 'read' }], default: { permissions: ['settings.read'] } },
      },
      flows: [
        { id: 'm-tab', type: 'tab', label: 'site' },
        { id: 'm-map', type: 'cdm-map', z: 'm-tab', entity: 'shipment', version: '1.1.0', site: 'fra', siteType: 'str', source: 'urn:tectonic:fra:x', rules: [{ to: 'shipmentId', from: 'id' }], wires: [[], []] },
      ],
    });
  });
  after(async () => {
    await red?.stop();
  });

  it('401 without a token, the counters with one', async () => {
    const anonymous = await red.api('/tectonic/metrics');
    assert.equal(anonymous.status, 401);
    await anonymous.arrayBuffer();

    const tokenRes = await red.api('/auth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: 'read', username: 'ops', password: 'scrape-me' }),
    });
    assert.equal(tokenRes.status, 200);
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const text = await waitFor(async () => {
      const res = await red.api('/tectonic/metrics', { headers: { authorization: `Bearer ${token}` } });
      const body = await res.text();
      return res.status === 200 && body.includes('tectonic_records_total{node="m-map"') ? body : undefined;
    }, { timeoutMs: 10_000, message: 'an authorised scrape with the map node' });
    assert.match(text, /^tectonic_records_total\{node="m-map",type="cdm-map",stage="map",outcome="in"\} 0$/m);
    assert.match(text, /^# TYPE tectonic_build_info gauge$/m);
  });
});
