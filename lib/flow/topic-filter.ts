import { type Checked, type Reason, reason } from '../reasons';

export interface TopicFilter {
  /** What is subscribed, `$share/{group}/` included. */
  filter: string;
  /** The shared-subscription group, when there is one [MQTT-4.8.2]. */
  group?: string;
  /** The filter without the `$share/{group}/` prefix: what topics are matched against. */
  match: string;
}

/** An MQTT topic filter is a UTF-8 string of at most 65,535 bytes [MQTT-1.5.3]. */
const MAX_FILTER_BYTES = 65_535;

function levelReasons(filter: string, path: string): Reason[] {
  const levels = filter.split('/');
  const reasons: Reason[] = [];
  levels.forEach((level, i) => {
    // '#' stands alone in the last level [MQTT-4.7.1-2]; '+' fills a whole level [MQTT-4.7.1-3].
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      reasons.push(reason(path, 'pattern', `"${filter}": "#" must be the whole last level, as in "site/fra/#"`));
    } else if (level.includes('+') && level !== '+') {
      reasons.push(reason(path, 'pattern', `"${filter}": "+" must be a whole level, as in "site/+/wms"`));
    }
  });
  return reasons;
}

/** Checks a subscription filter a person typed, with reasons in their words rather than the broker's refusal. */
export function checkTopicFilter(text: string, path = 'topic'): Checked<TopicFilter> {
  const filter = text.trim();
  // At least one character [MQTT-4.7.3-1], no U+0000 [MQTT-4.7.3-2].
  if (filter === '') return { ok: false, reasons: [reason(path, 'required', 'is empty: give a topic filter such as site/fra/wms/#')] };
  if (filter.includes('\u0000')) return { ok: false, reasons: [reason(path, 'pattern', 'must not contain a NUL character')] };
  if (Buffer.byteLength(filter, 'utf8') > MAX_FILTER_BYTES) return { ok: false, reasons: [reason(path, 'maxLength', `is longer than ${MAX_FILTER_BYTES} bytes`)] };
  const shared = /^\$share\/([^/]*)\/(.*)$/s.exec(filter);
  if (filter.startsWith('$share/') && shared === null) {
    return { ok: false, reasons: [reason(path, 'pattern', `"${filter}": a shared subscription is $share/{group}/{filter}`)] };
  }
  if (shared !== null) {
    const group = shared[1] as string;
    const match = shared[2] as string;
    // The share name is at least one character and has no "/", "+" or "#" [MQTT-4.8.2-1, MQTT-4.8.2-2].
    if (group === '' || /[+#]/.test(group)) return { ok: false, reasons: [reason(path, 'pattern', `"${filter}": the group "${group}" must be one or more characters other than "/", "+" and "#"`)] };
    if (match === '') return { ok: false, reasons: [reason(path, 'required', `"${filter}": the filter after $share/${group}/ is empty`)] };
    const reasons = levelReasons(match, path);
    return reasons.length > 0 ? { ok: false, reasons } : { ok: true, value: { filter, group, match } };
  }
  const reasons = levelReasons(filter, path);
  return reasons.length > 0 ? { ok: false, reasons } : { ok: true, value: { filter, match: filter } };
}
