import type { CompatibilityReason } from '../catalog/types';
import type { Reason } from '../reasons';

/** One reason per line, for people; --json is for programs. */
export function formatReason(r: Reason & Partial<CompatibilityReason> & { entity?: string; version?: string }): string {
  const where = r.path === '' ? '(record)' : r.path;
  const context = [r.entity && r.version ? `${r.entity}@${r.version}` : undefined, r.against ? `against ${r.against}` : undefined].filter(Boolean).join(', ');
  return `  ${where}  [${r.rule}]  ${r.message}${context ? `  (${context})` : ''}`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
