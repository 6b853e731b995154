// GET /tectonic/metrics inside Node-RED: Prometheus text that parses by the
// format's grammar, and counters equal to the records sent, from the same
// store the stats endpoint reads.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import { fraRecords, fraSpec } from '../fixtures/logistics';
import { waitFor } from '../support/node-red-process';
import { Inbox, type Msg, helper, load, node, startServer, stopServer } from '../support/red-helper';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:\\\\.|[^"\\\\\\n])*"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (NaN|[+-]Inf|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

/**
 * The Prometheus text exposition format (version 0.0.4), checked line by
 * line: HELP and TYPE comments, samples with escaped label values, every
 * sample of a family declared by a TYPE line before it (histograms add
 * _bucket, _sum, _count). Throws at the first line that breaks it.
 */
function parsePrometheusText(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const type = TYPE.exec(line);
    if (type) {
      if (types.has(type[1] as string)) throw new Error(`line ${i + 1}: a second TYPE for ${type[1]}`);
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (HELP.test(line)) continue;
    if (line.startsWith('#')) throw new Error(`line ${i + 1}: a comment that is neither HELP nor TYPE: ${line}`);
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const name = sample[1] as string;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family)) throw new Error(`line ${i + 1}: ${name} has no TYPE line before it`);
    const labels: Record<string, string> = {};
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"/g)) labels[m[1] as string] = (m[2] as string).replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    samples.push({ name, labels, value: Number(sample[3]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('GET /tectonic/metrics', function () {
  this.timeout(20_000);
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('the grammar check refuses what is not the format', () => {
    should(() => parsePrometheusText('tectonic_x 1\n')).throw(/no TYPE/);
    should(() => parsePrometheusText('# TYPE a counter\na{b="c} 1\n')).throw(/not a sample/);
    should(parsePrometheusText('# HELP a x\n# TYPE a counter\na{b="q\\"uote"} 2\n')).eql([{ name: 'a', labels: { b: 'q"uote' }, value: 2 }]);
  });

  it('parses as Prometheus text, and its counters equal the records sent and rejected, as the stats endpoint says', async () => {
    await load([
      { id: 'f1', type: 'tab', label: 'site' },
      { id: 'catalog', type: 'cdm-catalog', source: 'bundled', folder: '', folderType: 'str', url: '', urlType: 'str', bus: '', refresh: '', publishToBus: '', policy: 'STRICT' },
      { id: 'map', type: 'cdm-map', z: 'f1', catalog: 'catalog', entity: fraSpec.entity, version: fraSpec.version, site: 'fra', siteType: 'str', source: 'urn:tectonic:fra:wms', rules: fraSpec.rules, wires: [['validate'], ['out']] },
      { id: 'validate', type: 'cdm-validate', z: 'f1', catalog: 'catalog', entity: '', entityType: 'str', version: '', versionType: 'str', castTo: '', castToType: 'str', wires: [['out'], ['out']] },
      { id: 'out', type: 'helper', z: 'f1', wires: [] },
    ]);
    const out = new Inbox(node('out'));
    // The bundled catalog loads asynchronously; until then cdm-validate refuses as no-catalog.
    await waitFor(() => (helper.getNode('catalog') as unknown as { catalog: { snapshot?: unknown } }).catalog.snapshot !== undefined, { timeoutMs: 10_000, message: 'the catalog to load' });
    const good = fraRecords.length;
    for (const record of fraRecords) node('map').receive({ payload: structuredClone(record) });
    node('map').receive({ payload: { Sendung: 'SHP-9' } });
    node('map').receive({ payload: 'not a record' });
    await out.count(good + 2, 10_000);

    const res = await helper.request().get('/tectonic/metrics');
    should(res.status).equal(200);
    const text = (res as unknown as { text: string }).text;
    const samples = parsePrometheusText(text);
    should(value(samples, 'tectonic_records_total', { node: 'map', type: 'cdm-map', stage: 'map', outcome: 'in' })).equal(good + 2);
    should(value(samples, 'tectonic_records_total', { node: 'map', outcome: 'out' })).equal(good);
    should(value(samples, 'tectonic_records_total', { node: 'map', outcome: 'rejected' })).equal(2);
    should(value(samples, 'tectonic_records_total', { node: 'validate', type: 'cdm-validate', outcome: 'in' })).equal(good);
    should(value(samples, 'tectonic_records_total', { node: 'validate', outcome: 'out' })).equal(good);
    const mapRejects = samples.filter((s) => s.name === 'tectonic_rejects_total' && s.labels.node === 'map').reduce((sum, s) => sum + s.value, 0);
    should(mapRejects).equal(2);
    should(value(samples, 'tectonic_node_events_total', { node: 'catalog', type: 'cdm-catalog', event: 'loaded' })).equal(1);
    should(samples.some((s) => s.name === 'tectonic_build_info' && s.labels.pack === '0.1.0' && s.labels.nodejs === process.versions.node)).be.true();
    should(text).match(/# TYPE tectonic_canary_duration_seconds histogram/);

    // The same store behind the stats endpoint.
    const stats = (await helper.request().get('/tectonic/stats/map')).body as Msg;
    should(stats).containEql({ in: good + 2, out: good, rejected: 2 });
    const validateStats = (await helper.request().get('/tectonic/stats/validate')).body as Msg;
    should(validateStats).containEql({ in: good, out: good, rejected: 0 });
  });
});
