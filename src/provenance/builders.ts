/**
 * Identifiers written into provenance and matched by the attestation policy. They are
 * TypeURIs (SLSA v1): they name things, nothing is fetched from them.
 */
export const BUILD_TYPE_V1 = 'https://provenant.dev/buildtypes/wheel/v1';
/** A build on a developer's machine: honest about being unattested by any CI. */
export const LOCAL_BUILDER_ID = 'https://provenant.dev/builders/local@v1';
/** Builds in GitHub Actions: the builder id is the workflow ref under this prefix. */
export const GITHUB_BUILDER_PREFIX = 'https://github.com/';
