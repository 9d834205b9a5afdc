/** Library API: the same use cases the CLI runs, with adapters passed in. */
export * from './errors.ts';
export type { Reporter, StepStatus } from './app/reporter.ts';
export { silentReporter } from './app/reporter.ts';
export type { Storage, ObjectProps, StoredObject } from './storage/storage.ts';
export type { Signer, PublicKeyInfo } from './signers/signer.ts';
