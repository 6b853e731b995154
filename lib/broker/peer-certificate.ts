import type { TLSSocket } from 'node:tls';

/**
 * The names a verified client certificate gives its holder: the subject's CN
 * and the subject alternative names (DNS, URI, email). A certificate the CA
 * did not verify names no one (`optional` client certificates let it connect,
 * to authenticate by password instead).
 */
export function certificateNames(socket: TLSSocket): string[] {
  if (!socket.authorized) return [];
  const certificate = socket.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0) return [];
  const names: string[] = [];
  const cn = certificate.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...cn);
  for (const entry of (certificate.subjectaltname ?? '').split(/,\s*/)) {
    const match = /^(?:DNS|URI|email):(.+)$/.exec(entry);
    if (match) names.push(match[1] as string);
  }
  return [...new Set(names)];
}
