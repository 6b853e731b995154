import { type CdmEnvelope, majorOf } from './envelope';
import { type Checked, type Reason, reason } from '../reasons';

/** `cdm/{entity}/v{major}/{site}`: the major version in the topic lets consumers route by version. */
export function canonicalTopic(envelope: Pick<CdmEnvelope, 'entity' | 'version' | 'site'>): string {
  const { entity, version, site } = envelope;
  // A site publishes a handful of topics: the same string for every record, found by comparing.
  for (const known of topics) if (known.entity === entity && known.version === version && known.site === site) return known.topic;
  const topic = `cdm/${entity}/v${majorOf(version)}/${site}`;
  if (topics.length >= TOPICS_KEPT) topics.pop();
  topics.unshift({ entity, version, site, topic });
  return topic;
}

const topics: { entity: string; version: string; site: string; topic: string }[] = [];
const TOPICS_KEPT = 16;

export interface CanonicalTopic {
  entity: string;
  major: number;
  site: string;
}

export function parseCanonicalTopic(topic: string): CanonicalTopic | undefined {
  const match = /^cdm\/([^/]+)\/v(\d+)\/([^/]+)$/.exec(topic);
  if (!match) return undefined;
  return { entity: match[1] as string, major: Number(match[2]), site: match[3] as string };
}

export interface SubscriptionSelection {
  /** '' or undefined: every entity. */
  entity?: string;
  /** Major versions; empty or undefined: every version. */
  majors?: readonly number[];
  /** '' or undefined: every site. */
  site?: string;
  /** Shared-subscription group: consumers in one group split the messages between them. */
  group?: string;
}

const LEVEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The topic filters that together select exactly what `selection` asks for. */
export function subscriptionFilters(selection: SubscriptionSelection): Checked<string[]> {
  const reasons: Reason[] = [];
  const entity = selection.entity?.trim() ?? '';
  const site = selection.site?.trim() ?? '';
  const group = selection.group?.trim() ?? '';
  if (entity !== '' && !LEVEL.test(entity)) reasons.push(reason('entity', 'pattern', `"${entity}" is not an entity name (letters, digits, ".", "_", "-")`));
  if (site !== '' && !LEVEL.test(site)) reasons.push(reason('site', 'pattern', `"${site}" is not a site id (letters, digits, ".", "_", "-")`));
  if (group !== '' && !LEVEL.test(group)) reasons.push(reason('group', 'pattern', `"${group}" is not a group name (letters, digits, ".", "_", "-")`));
  for (const major of selection.majors ?? []) {
    if (!Number.isSafeInteger(major) || major < 0) reasons.push(reason('versions', 'type', `${major} is not a major version`));
  }
  if (reasons.length > 0) return { ok: false, reasons };

  const majors = [...new Set(selection.majors ?? [])].sort((a, b) => a - b);
  const versionLevels = majors.length === 0 ? ['+'] : majors.map((m) => `v${m}`);
  const prefix = group === '' ? '' : `$share/${group}/`;
  return { ok: true, value: versionLevels.map((level) => `${prefix}cdm/${entity || '+'}/${level}/${site || '+'}`) };
}

/** Parses the editor's "1, 2" list of majors; '' means every version. */
export function parseMajors(list: string): Checked<number[]> {
  const parts = list.split(/[\s,]+/).filter((p) => p !== '');
  const majors: number[] = [];
  for (const part of parts) {
    const match = /^v?(\d{1,6})$/i.exec(part);
    if (!match) return { ok: false, reasons: [reason('versions', 'format', `"${part}" is not a major version (write e.g. "1, 2")`)] };
    majors.push(Number(match[1]));
  }
  return { ok: true, value: majors };
}

/** MQTT topic matching [MQTT-4.7.1]; a `$share/{group}/` prefix is matched on the filter behind it [MQTT-4.8.2]. */
export function topicMatches(filter: string, topic: string): boolean {
  const shared = /^\$share\/[^/]+\/(.*)$/.exec(filter);
  const levels = (shared ? (shared[1] as string) : filter).split('/');
  const parts = topic.split('/');
  // Wildcards at the first level do not match topics starting with `$` [MQTT-4.7.2-1].
  if (topic.startsWith('$') && (levels[0] === '+' || levels[0] === '#')) return false;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level === '#') return true;
    if (i >= parts.length) return false;
    if (level !== '+' && level !== parts[i]) return false;
  }
  return levels.length === parts.length;
}

/** A message whose topic and envelope disagree was misrouted or forged; consumers must not trust either. */
export function topicDisagreement(topic: string, envelope: Pick<CdmEnvelope, 'entity' | 'version' | 'site'>): Reason[] {
  const parsed = parseCanonicalTopic(topic);
  if (parsed === undefined) return [reason('topic', 'pattern', `"${topic}" is not a canonical topic cdm/{entity}/v{major}/{site}`)];
  const reasons: Reason[] = [];
  if (parsed.entity !== envelope.entity) reasons.push(reason('cdm.entity', 'topic', `is "${envelope.entity}" but the topic says "${parsed.entity}"`));
  if (parsed.major !== majorOf(envelope.version)) reasons.push(reason('cdm.version', 'topic', `is ${envelope.version} but the topic says v${parsed.major}`));
  if (parsed.site !== envelope.site) reasons.push(reason('cdm.site', 'topic', `is "${envelope.site}" but the topic says "${parsed.site}"`));
  return reasons;
}
