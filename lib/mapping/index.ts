/** The mapping compiler: local records to canonical ones (docs/mapping-spec.md). No Node-RED here. */
export { compileMappingSpec } from './compile';
export type { CompiledMapping, MapResult } from './compile';
// The envelope is lib/envelope's; newEnvelope stays part of this module's API (docs/mapping-spec.md).
export { newEnvelope } from '../envelope/new-envelope';
export type { NewEnvelopeInput } from '../envelope/new-envelope';
export { compileGetter, compileSetter, parsePath } from './paths';
