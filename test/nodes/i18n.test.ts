// The runtime's texts go through RED._ and fall back to the en-US catalog the
// editor reads: node-red-node-test-helper's RED._ returns every key as it is,
// and Node-RED returns the key (without its namespace) for a text it lacks.
// Checked against a real Node-RED by hand (a `de` catalog beside the built
// nodes: its texts showed in the log for both key forms).
import should from 'should';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { catalogKeyProblems } from '../../scripts/catalog-keys.mjs';
import { CATALOG_NAMESPACE_PREFIX, type MessageParams, translator } from '../../nodes/support/i18n';
import { repoRoot, tempDir } from '../support/node-red-process';

type Underscore = (key: string, params?: MessageParams) => string;
const red = (underscore: Underscore): { _: Underscore } => ({ _: underscore });

describe('nodes/support/i18n translator', () => {
  it('with a RED._ that returns the key, falls back to the en-US text with the parameters filled in', () => {
    const t = translator(red((key) => key));
    should(t('bus-publish.status.sentWaiting', { sent: 12, waiting: 3 })).equal('12 sent · 3 waiting');
    should(t('bus-publish.errors.problem', { problem: 'no tectonic-bus configured' })).equal('bus-publish: no tectonic-bus configured');
    should(t('tectonic-bus:tectonic-bus.state.connected')).equal('connected');
    should(t('tectonic-bus:tectonic-bus.state.disconnectedBecause', { error: 'ECONNREFUSED' })).equal('disconnected: ECONNREFUSED');
  });

  it("falls back as well when RED._ answers with the key stripped of its namespace (i18next's miss)", () => {
    const t = translator(red((key) => key.slice(key.indexOf(':') + 1)));
    should(t('tectonic-bus:tectonic-bus.state.withDetail', { state: 'connected', detail: '3 sent' })).equal('connected · 3 sent');
  });

  it('a parameter the text does not name is ignored, a blank without a parameter stays as it is', () => {
    const t = translator(red((key) => key));
    should(t('bus-publish.status.sent', { sent: 1, other: 'x' })).equal('1 sent');
    should(t('bus-publish.status.sent')).equal('__sent__ sent');
  });

  it("with a RED._ that translates, uses RED._'s text; another set's key goes under the namespace Node-RED gives that set", () => {
    const asked: Array<[string, MessageParams | undefined]> = [];
    const t = translator(
      red((key, params) => {
        asked.push([key, params]);
        return `übersetzt ${key} ${JSON.stringify(params ?? {})}`;
      }),
    );
    should(t('bus-publish.status.sent', { sent: 2 })).equal('übersetzt bus-publish.status.sent {"sent":2}');
    should(t('tectonic-bus:tectonic-bus.state.connected')).equal('übersetzt @tectonic/node-red-hybrid/tectonic-bus:tectonic-bus.state.connected {}');
    should(asked.map(([key]) => key)).eql(['bus-publish.status.sent', '@tectonic/node-red-hybrid/tectonic-bus:tectonic-bus.state.connected']);
  });

  it('a key in no catalog comes back as the key', () => {
    const t = translator(red((key) => key));
    should(t('bus-publish.status.noSuchText')).equal('bus-publish.status.noSuchText');
    should(t('no-such-set:no-such-set.status.x')).equal('no-such-set:no-such-set.status.x');
    should(t('bus-publish.status', { sent: 1 })).equal('bus-publish.status');
  });

  it("the namespace prefix is the package's name, which Node-RED puts before each node set's name", async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { name: string };
    should(CATALOG_NAMESPACE_PREFIX).equal(`${pkg.name}/`);
  });
});

describe('scripts/catalog-keys: every runtime text key is in its en-US catalog', () => {
  let fixture: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    fixture = await tempDir('tectonic-catalog-keys-');
    await mkdir(join(fixture.path, 'nodes', 'support'), { recursive: true });
    await mkdir(join(fixture.path, 'nodes', 'locales', 'en-US'), { recursive: true });
    await writeFile(join(fixture.path, 'nodes', 'locales', 'en-US', 'a-node.json'), JSON.stringify({ 'a-node': { status: { ok: 'ok __n__', odd: 'odd __count__' } } }));
  });
  after(() => fixture.remove());

  async function problems(adapter: string, support = ''): Promise<string[]> {
    await writeFile(join(fixture.path, 'nodes', 'a-node.ts'), adapter);
    await writeFile(join(fixture.path, 'nodes', 'support', 'shared.ts'), support);
    return catalogKeyProblems(fixture.path);
  }

  it('the pack itself has none', () => {
    should(catalogKeyProblems(repoRoot)).eql([]);
  });

  it('finds a typo, an object, a run-time key, an own-set key outside its adapter and an i18next option as a blank', async () => {
    should(await problems("t('a-node.status.ok', { n: 1 });", "const k = 'a-node:a-node.status.ok';")).eql([]);
    should(await problems("t('a-node.status.okk');")).eql(["nodes/a-node.ts: 'a-node.status.okk' is not in nodes/locales/en-US/a-node.json"]);
    should(await problems("t('a-node.status');")).eql(["nodes/a-node.ts: 'a-node.status' is not a text in nodes/locales/en-US/a-node.json"]);
    should(await problems('t(`a-node.status.${kind}`);')).eql(['nodes/a-node.ts: t(`a-node.status.${kind}`) builds its key at run time; use a literal key']);
    should(await problems('', "t('a-node.status.ok');")).eql(["nodes/support/shared.ts: 'a-node.status.ok' must be written 'a-node:a-node.status.ok' here, outside nodes/a-node.ts"]);
    should(await problems("t('a-node.status.odd');")).eql(["nodes/a-node.ts: 'a-node.status.odd' has the blank __count__, an i18next option name"]);
  });
});
