import type { Node } from 'node-red';
import type { MappingSpecHolder, SpecChange } from '../../lib/mapping/spec-source';
import { describeReasons } from '../../lib/reasons';
import { offerReadiness } from './flow-readiness';
import type { Translate } from './i18n';

/** What cdm-map's adapter needs from following its spec source: the changes, and what its status says meanwhile. */
export interface FollowedSpec {
  changed(change: SpecChange): void;
  /** "waiting for its mapping spec (file /srv/spec.yaml)", with the last problem when there is one. */
  waitingText(): string;
  /** True while the last spec offered did not compile (or, with none in force, the source cannot be read). */
  troubled(): boolean;
}

/**
 * cdm-map's side of a spec source: its readiness (so a bus-subscribe entry
 * holds until a first spec is in force), one warning per problem, one log
 * line per spec put in force. The node's own rules are in force from the
 * start, so such a node is ready at once.
 */
export function followSpecSource(node: Node, t: Translate, holder: MappingSpecHolder, show: () => void): FollowedSpec {
  const waiting = t('cdm-map:cdm-map.spec.waiting', { origin: holder.origin });
  const ready = offerReadiness(node, waiting);
  ready.set(holder.current !== undefined, waiting);
  let problem: string | undefined;
  return {
    changed(change) {
      if (change.kind === 'in-force') {
        problem = undefined;
        ready.set(true);
        node.log(t('cdm-map:cdm-map.spec.inForce', { origin: holder.origin, entity: change.entity, version: change.version, digest: change.digest.slice(0, 19) }));
      } else {
        const why = describeReasons(change.reasons);
        // A source that cannot be read is warned of once; it is not shown on a node whose spec is in force, because
        // the same bytes coming back are not announced again, and the status would stay yellow for nothing.
        if (change.kind !== 'unavailable' || holder.current === undefined) problem = why;
        const params = { origin: holder.origin, problem: why };
        if (change.kind === 'kept') node.warn(t('cdm-map:cdm-map.spec.kept', params));
        else if (change.kind === 'refused') node.warn(t('cdm-map:cdm-map.spec.refused', params));
        else node.warn(t('cdm-map:cdm-map.spec.unavailable', params));
      }
      show();
    },
    waitingText: () => (problem === undefined ? waiting : `${waiting}: ${problem}`),
    troubled: () => problem !== undefined,
  };
}
