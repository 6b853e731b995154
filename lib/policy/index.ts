/** The policy engine's public surface, for the policy nodes and the command line. */
export { checkBundle, parseBundleText } from './bundle-format';
export type { PolicyBundle } from './bundle-format';
export { canonicalJson, checkJsonData } from './canonical';
export { CONDITION_LIMITS, compileCondition } from './conditions';
export type { ConditionInput, ConditionResult } from './conditions';
export { compilePolicy } from './engine';
export type { CompiledPolicy, PolicyAnnotations, PolicyInput, PolicyOptions, PolicyVerdict } from './engine';
export { parseMaskPath } from './mask-path';
export type { MaskStep } from './mask-path';
export { applyMask, hashValue, maskTransform, partialValue } from './masks';
export { PolicyState } from './policy-state';
export type { PolicyStatus } from './policy-state';
export { generatePolicyKeyPair, loadPrivateKey, loadPublicKey, policyKeyId, signBundle, verifyBundleSignature } from './signature';
export type { PolicyKeyPair } from './signature';
export { checkBundleTrust, DEFAULT_MAX_BUNDLE_BYTES } from './trust';
export type { TrustOptions } from './trust';
