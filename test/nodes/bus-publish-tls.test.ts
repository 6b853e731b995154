// Issue 20: bus-publish refuses to send over plaintext to a broker that is
// not on this machine's loopback when the policy requires TLS. The broker
// URLs point at closed ports of this machine (0.0.0.0 reaches it without
// being loopback by name), so nothing leaves it.
import should from 'should';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import type { JsonObject } from '../../lib/catalog/types';
import { generatePolicyKeyPair, signBundle } from '../../lib/policy/signature';
import { freePort, tempDir, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, helper, load, node, startServer, stopServer } from '../support/red-helper';

const DAY = 24 * 3600 * 1000;
const keys = generatePolicyKeyPair();

describe('bus-publish: plaintext refused when the policy requires TLS', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let bundleFile = '';

  before(async () => {
    dir = await tempDir('tectonic-publish-tls-');
    (helper as unknown as { settings(settings: Record<string, unknown>): unknown }).settings({ userDir: dir.path });
    const doc = { id: 'tls-policy', version: 1, issuedAt: new Date(Date.now() - DAY).toISOString(), expiresAt: new Date(Date.now() + DAY).toISOString(), rules: [{ transport: { tls: 'required' } }] } as JsonObject;
    const signed = signBundle(doc, keys.privateKeyPem);
    if (!signed.ok) throw new Error(signed.reason.message);
    bundleFile = join(dir.path, 'policy.json');
    await writeFile(bundleFile, JSON.stringify(signed.signed));
    await startServer();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await stopServer();
    await dir.remove();
  });

  async function deploy(url: string, tag: string): Promise<{ published: Inbox; rejected: Inbox }> {
    await load(
      [
        { id: 'f1', type: 'tab', label: 'tls' },
        { id: 'bus', type: 'tectonic-bus', z: '', mode: 'external', url, protocolVersion: '4', clientId: `tls-${tag}` },
        { id: 'policy', type: 'tectonic-policy', z: '', source: 'file', file: bundleFile, fileType: 'str', refresh: '60', site: 'site-a', siteType: 'str', publicKeyFile: '', publicKeyFileType: 'str', trustDemoKey: false, maxBytes: '', publishToBus: '' },
        { id: `pub-${tag}`, type: 'bus-publish', z: 'f1', bus: 'bus', qos: '1', wireMode: 'structured', policy: 'policy', wires: [['published'], ['rejected']] },
        { id: 'published', type: 'helper', z: 'f1', wires: [] },
        { id: 'rejected', type: 'helper', z: 'f1', wires: [] },
      ],
      { policy: { publicKeys: keys.publicKeyPem } },
    );
    return { published: new Inbox(node('published')), rejected: new Inbox(node('rejected')) };
  }

  const record = (id: string): Msg => ({
    _probe: id,
    payload: { shipmentId: 'S-1' },
    cdm: { entity: 'shipment', version: '1.1.0', site: 'site-a', id, time: '2026-11-24T07:00:01Z', source: 'urn:tectonic:site-a:test' },
  });

  it('mqtt:// to a host that is not loopback: refused on the reject output with the rule', async () => {
    const out = await deploy(`mqtt://0.0.0.0:${await freePort()}`, 'plain');
    // The policy loads from its file asynchronously: until it is in force bus-publish has no transport rule to apply.
    const rejected = await waitFor(async () => {
      node('pub-plain').receive(record(`01JTLS${Date.now()}`));
      return out.rejected.next(() => true, 300).catch(() => undefined);
    }, { timeoutMs: 10_000, message: 'the plaintext refusal' });
    const reject = rejected.reject as { stage: string; reasons: Array<{ path: string; rule: string; message: string }> };
    should(reject.stage).equal('bus-publish');
    should(reject.reasons[0]?.path).equal('transport.tls');
    should(reject.reasons[0]?.rule).equal('rules[0].transport');
    should(reject.reasons[0]?.message).match(/plaintext \(mqtt:\/\/\) to 0\.0\.0\.0/);
  });

  it('mqtt:// to loopback: accepted into the outbox, not refused', async () => {
    const out = await deploy(`mqtt://127.0.0.1:${await freePort()}`, 'loop');
    await new Promise((resolve) => setTimeout(resolve, 500));
    node('pub-loop').receive(record('01JTLSLOOP'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    should(out.rejected.messages.length).equal(0, JSON.stringify(out.rejected.messages[0]?.reject));
  });
});
