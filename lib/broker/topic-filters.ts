import { topicMatches } from '../envelope/topics';

/**
 * Set relations between MQTT topic filters [MQTT-4.7], which an ACL needs
 * beyond matching one topic: a subscription is allowed when every topic it
 * can match is allowed, and denied when it can match any denied one.
 * `$share/{group}/` is stripped first [MQTT-4.8.2]: the group changes who
 * gets a message, not which messages.
 */
export function withoutShare(filter: string): string {
  const shared = /^\$share\/[^/]+\/(.*)$/.exec(filter);
  return shared ? (shared[1] as string) : filter;
}

/** Does `outer` match every topic `inner` matches? */
export function filterCovers(outer: string, inner: string): boolean {
  const o = withoutShare(outer).split('/');
  const i = withoutShare(inner).split('/');
  // A filter starting with a wildcard never matches `$` topics [MQTT-4.7.2-1]; one naming `$SYS` does.
  if (i[0]?.startsWith('$') === true && (o[0] === '+' || o[0] === '#')) return false;
  for (let n = 0; n < o.length; n++) {
    const level = o[n];
    if (level === '#') return true;
    const other = i[n];
    if (other === undefined || other === '#') return false;
    if (level === '+') continue;
    if (other === '+' || other !== level) return false;
  }
  return o.length === i.length;
}

/** Is there a topic both filters match? */
export function filtersOverlap(a: string, b: string): boolean {
  const x = withoutShare(a).split('/');
  const y = withoutShare(b).split('/');
  const dollar = (levels: string[]): boolean => levels[0]?.startsWith('$') === true;
  const wild = (level: string | undefined): boolean => level === '+' || level === '#';
  if ((dollar(x) && wild(y[0])) || (dollar(y) && wild(x[0]))) return false;
  for (let n = 0; n < Math.max(x.length, y.length); n++) {
    const p = x[n];
    const q = y[n];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return false;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
  return true;
}

export { topicMatches };
