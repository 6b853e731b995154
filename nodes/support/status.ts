import type { NodeStatus } from 'node-red';
import type { SharedBusState } from '../../lib/bus/shared-bus';
import type { Translate } from './i18n';
import { maskUrlPasswords } from '../../lib/redact-url';

/** The dot every node that uses a tectonic-bus shows for the shared connection; its texts are tectonic-bus.json's. */
export function busStatus(t: Translate, state: SharedBusState, detail = ''): NodeStatus {
  const text = (stateText: string): string => (detail === '' ? stateText : t('tectonic-bus:tectonic-bus.state.withDetail', { state: stateText, detail }));
  switch (state.kind) {
    case 'starting':
      return { fill: 'yellow', shape: 'ring', text: text(t('tectonic-bus:tectonic-bus.state.starting')) };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: text(t('tectonic-bus:tectonic-bus.state.connecting')) };
    case 'connected':
      return { fill: 'green', shape: 'dot', text: text(t(state.open === true ? 'tectonic-bus:tectonic-bus.state.connectedOpen' : 'tectonic-bus:tectonic-bus.state.connected')) };
    case 'disconnected':
      return {
        fill: 'red',
        shape: 'ring',
        text: text(state.error ? t('tectonic-bus:tectonic-bus.state.disconnectedBecause', { error: maskUrlPasswords(state.error) }) : t('tectonic-bus:tectonic-bus.state.disconnected')),
      };
    case 'failed':
      return { fill: 'red', shape: 'dot', text: state.error };
    case 'closed':
      return {};
  }
}

export function problemStatus(text: string): NodeStatus {
  return { fill: 'red', shape: 'dot', text };
}
