import type { NodeStatus } from 'node-red';
import type { SharedBusState } from '../../lib/bus/shared-bus';

/** The dot every node that uses a tectonic-bus shows for the shared connection. */
export function busStatus(state: SharedBusState, detail = ''): NodeStatus {
  const suffix = detail === '' ? '' : ` · ${detail}`;
  switch (state.kind) {
    case 'starting':
      return { fill: 'yellow', shape: 'ring', text: `starting${suffix}` };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: `connecting${suffix}` };
    case 'connected':
      return { fill: 'green', shape: 'dot', text: `connected${suffix}` };
    case 'disconnected':
      return { fill: 'red', shape: 'ring', text: `disconnected${state.error ? `: ${state.error}` : ''}${suffix}` };
    case 'failed':
      return { fill: 'red', shape: 'dot', text: state.error };
    case 'closed':
      return {};
  }
}

export function problemStatus(text: string): NodeStatus {
  return { fill: 'red', shape: 'dot', text };
}
