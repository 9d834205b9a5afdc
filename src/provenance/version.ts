import pkg from '../../package.json' with { type: 'json' };

/** provenant's own version, recorded in every statement it writes. */
export const PROVENANT_VERSION: string = pkg.version;
