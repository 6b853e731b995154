/** The mapping compiler: local records to canonical ones (docs/mapping-spec.md). No Node-RED here. */
export { compileMappingSpec } from './compile';
export type { CompiledMapping, MapResult } from './compile';
export { newEnvelope } from './envelope';
export { compileGetter, compileSetter, parsePath } from './paths';
