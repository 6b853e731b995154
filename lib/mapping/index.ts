/** The mapping compiler: local records to canonical ones (docs/mapping-spec.md). No Node-RED here. */
export { compileMappingSpec, DEFAULT_COMPILE_OPTIONS } from './compile';
export type { CompiledMapping, MapResult } from './compile';
export { newEnvelope } from './envelope';
export type { NewEnvelopeInput } from './envelope';
export { compileGetter, compileSetter, parsePath } from './paths';
export type { CompiledPath, Getter, Setter } from './paths';
export type { MappingRule, MappingSpec, NestedMappingSpec, Transform } from './spec-format';
export type { CompileOptions } from './transform-types';
export { TRANSFORM_NAMES } from './transforms/index';
export { UNITS } from './transforms/units';
