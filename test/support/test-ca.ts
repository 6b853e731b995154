// A certificate authority made by the test with Debian's openssl: a CA, a
// server certificate for 127.0.0.1 and client certificates whose CN names a
// broker user, each valid for a day, in a folder of the test's.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** The CA certificate (PEM file). */
  ca: string;
  server: { cert: string; key: string };
  /** Client certificate and key files for a CN; a second CA's client is not trusted. */
  client(name: string): { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function issue(dir: string, caName: string, name: string, cn: string, ext: string): { cert: string; key: string } {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

/** `name` distinguishes several CAs in one folder (a trusted one and an attacker's). */
export function createTestCa(dir: string, name = 'ca'): TestCa {
  openssl(dir, ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=tectonic test ${name}`]);
  const server = issue(dir, name, `${name}-server`, '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  return {
    dir,
    ca: join(dir, `${name}.pem`),
    server,
    client: (cn) => issue(dir, name, `${name}-client-${cn}`, cn, 'extendedKeyUsage=clientAuth\n'),
  };
}
