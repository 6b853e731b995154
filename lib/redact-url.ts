/**
 * Credentials never reach a log line or a status (issue 20: a broker URL
 * `mqtt://user:pass@host` was logged in clear once a second while the
 * broker was unreachable). Every URL in the text keeps its user name and
 * loses its password: `mqtt://user:pass@host` -> `mqtt://user:***@host`.
 * The password runs to the last `@` before the path, as URL parsers read it,
 * so an unescaped `@` inside a password does not leave its tail behind.
 */
const USERINFO_PASSWORD = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s/?#:@]{0,1024}):[^\s/?#]{0,1024}@/gi;

export function maskUrlPasswords(text: string): string {
  return text.replace(USERINFO_PASSWORD, '$1:***@');
}
