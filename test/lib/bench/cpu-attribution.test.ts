// The pipeline bench's CPU breakdown (bench/pipeline/cpu-attribution.ts): a
// profile's samples go to the part of the runtime whose code called for the
// work, as a table of stacks (leaf last) and the part each must land in.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type CpuProfile, attributeCpu } from '../../../bench/pipeline/cpu-attribution';

const PACK = '/u/node_modules/@tectonic/node-red-hybrid/dist';
const RED = '/u/node_modules/@node-red/runtime/lib';
const frame = (url: string, functionName = 'f'): { url: string; functionName: string } => ({ url, functionName });

/** A profile with one sample of 100 µs per stack. */
function profileOf(stacks: Array<Array<{ url: string; functionName: string }>>): CpuProfile {
  const nodes: CpuProfile['nodes'] = [{ id: 1, callFrame: frame('', '(root)'), children: [] }];
  const samples: number[] = [];
  for (const stack of stacks) {
    let parent = nodes[0] as CpuProfile['nodes'][number];
    for (const callFrame of stack) {
      const node = { id: nodes.length + 1, callFrame, children: [] as number[] };
      nodes.push(node);
      parent.children?.push(node.id);
      parent = node;
    }
    samples.push(parent.id);
  }
  return { nodes, samples, timeDeltas: [0, ...samples.map(() => 100)], startTime: 0, endTime: 100 * samples.length };
}

describe('bench: CPU per record by part of the runtime', () => {
  const cases: Array<[string, Array<{ url: string; functionName: string }>, string]> = [
    ['a node input handler', [frame(`${RED}/flows/Flow.js`), frame(`${PACK}/nodes/cdm-map.js`), frame(`${PACK}/lib/mapping/compile.js`)], 'cdm-map'],
    ['a library the node calls (ajv)', [frame(`${RED}/nodes/Node.js`), frame(`${PACK}/nodes/cdm-validate.js`), frame('/u/node_modules/ajv/dist/core.js'), frame('', 'validate')], 'cdm-validate'],
    ["Node-RED's send from a node", [frame(`${PACK}/nodes/policy-gate.js`), frame(`${RED}/nodes/Node.js`, 'send')], 'Node-RED (message passing, hooks, send)'],
    ['the flow-control hooks', [frame(`${RED}/../util/lib/hooks.js`), frame(`${PACK}/nodes/support/message-hooks.js`), frame(`${PACK}/lib/flow/in-flight.js`)], 'flow-control hooks'],
    ['a PUBACK settling an outbox entry', [frame('/u/node_modules/mqtt/build/lib/client.js'), frame(`${PACK}/lib/bus/bus-client.js`), frame(`${PACK}/lib/outbox/outbox-sender.js`)], 'bus-publish: outbox sends, PUBACKs, writes'],
    ['a socket read into the bus', [frame('node:net'), frame(`${PACK}/lib/bus/bus-client.js`), frame(`${PACK}/lib/bus/inbound-decoder.js`)], 'tectonic-bus connection: socket reads, parsing, acks'],
    ['MQTT.js alone', [frame('node:net'), frame('/u/node_modules/mqtt-packet/parser.js')], 'MQTT.js'],
    ['the collector', [frame('', '(garbage collector)')], 'garbage collection'],
  ];
  for (const [what, stack, part] of cases) {
    it(`${what}: ${part}`, () => assert.deepEqual(attributeCpu(profileOf([stack])), { [part]: 100 }));
  }

  it('leaves idle time out and adds up the rest', () => {
    const shares = attributeCpu(profileOf([[frame('', '(idle)')], [frame(`${PACK}/nodes/bus-publish.js`)], [frame(`${PACK}/nodes/bus-publish.js`)]]));
    assert.deepEqual(shares, { 'bus-publish': 200 });
  });
});
