import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { type Checked, reason } from '../reasons';

/**
 * Password hashes as stored in a broker config: `scrypt$N$r$p$SALT$HASH`,
 * SALT and HASH in base64 (RFC 4648, with padding). N = 2^14, r = 8, p = 1
 * are the parameters RFC 7914 §2 names for interactive logins and node's own
 * defaults; a hash made with larger ones still verifies. The parameters are
 * bounded on parse so a config cannot make the broker allocate gigabytes per
 * CONNECT.
 */
export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export const DEFAULT_SCRYPT = { N: 16384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const MAX_N = 1 << 20;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parsePasswordHash(text: string): Checked<ScryptHash> {
  const parts = text.split('$');
  const fail = (message: string): Checked<ScryptHash> => ({ ok: false, reasons: [reason('passwordHash', 'format', message)] });
  if (parts.length !== 6 || parts[0] !== 'scrypt') return fail('must be "scrypt$N$r$p$salt$hash" (make one with `tectonic broker hash-password`)');
  const [N, r, p] = parts.slice(1, 4).map((n) => (/^\d{1,8}$/.test(n ?? '') ? Number(n) : Number.NaN)) as [number, number, number];
  if (!(N >= 2 && N <= MAX_N && (N & (N - 1)) === 0)) return fail(`N must be a power of two from 2 to ${MAX_N}`);
  if (!(r >= 1 && r <= 32)) return fail('r must be from 1 to 32');
  if (!(p >= 1 && p <= 16)) return fail('p must be from 1 to 16');
  const [salt, hash] = parts.slice(4) as [string, string];
  if (!BASE64.test(salt) || !BASE64.test(hash)) return fail('salt and hash must be base64');
  const saltBytes = Buffer.from(salt, 'base64');
  const hashBytes = Buffer.from(hash, 'base64');
  if (saltBytes.length < 8 || hashBytes.length < 16 || hashBytes.length > 64) return fail('salt must be 8 bytes or more and hash 16 to 64 bytes');
  return { ok: true, value: { N, r, p, salt: saltBytes, hash: hashBytes } };
}

function derive(password: Buffer | string, salt: Buffer, length: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; node's default cap (32 MiB) refuses N = 2^16 with r = 8.
  const maxmem = 256 * params.N * params.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { ...params, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, params: { N: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, KEY_BYTES, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Runs on libuv's thread pool, so a CONNECT storm does not stall the event loop; compared in constant time. */
export async function verifyPassword(password: Buffer | string, stored: ScryptHash): Promise<boolean> {
  const key = await derive(password, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(key, stored.hash);
}
