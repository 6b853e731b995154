import { type Reason, reason } from '../reasons';

/**
 * Checks the URL of a polled source: http or https, nothing else (no file:,
 * no data:), so a URL field cannot be turned into a way to read the node's
 * own disk. `what` names the thing in the message: `a catalog URL must be…`.
 */
export function checkHttpUrl(text: string, what: string): { ok: true; url: URL } | { ok: false; reason: Reason } {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, reason: reason('url', 'invalid-url', `"${text}" is not a URL`) };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: reason('url', 'invalid-url', `a ${what} URL must be http or https, got ${url.protocol}`) };
  return { ok: true, url };
}
