import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { type Checked, reason } from '../reasons';
import { type AccessConfig, parseAccessConfig, parseConfigText } from './broker-config';

/** The users and ACL of a broker config file (the other settings apply at start only). */
export function readAccessFile(file: string): Checked<AccessConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, reasons: [reason('', 'read', `cannot read ${file}: ${(err as Error).message}`)] };
  }
  const raw = parseConfigText(text);
  return raw.ok ? parseAccessConfig(raw.value) : raw;
}

/**
 * Calls `changed` with the file's users and ACL each time it changes. Polled
 * once a second rather than fs.watch: editors and config management replace
 * the file (rename), which an fs.watch handle on the old inode misses.
 */
export function watchAccessFile(file: string, changed: (access: Checked<AccessConfig>) => void, intervalMs = 1000): () => void {
  const listener = (now: { mtimeMs: number; size: number }, before: { mtimeMs: number; size: number }): void => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) changed(readAccessFile(file));
  };
  watchFile(file, { interval: intervalMs, persistent: false }, listener);
  return () => unwatchFile(file, listener);
}
