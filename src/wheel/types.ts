/** What the wheel builder hands to the rest of provenant. Pure data; nothing written yet. */
export interface BuiltWheel {
  /** PEP 621 name as written in pyproject.toml, e.g. `datadog-postgres`. */
  projectName: string;
  /** PEP 503 normalised name, e.g. `datadog-postgres` (used in URLs and pointer paths). */
  normalizedName: string;
  version: string;
  /** e.g. `py3-none-any` or `py2.py3-none-any`. */
  tag: string;
  /** e.g. `datadog_postgres-23.2.0-py3-none-any.whl`. */
  fileName: string;
  bytes: Uint8Array;
  /** Exact bytes of `.dist-info/METADATA` (served as the PEP 658 `.metadata` file). */
  metadata: Uint8Array;
  requiresPython: string | undefined;
  /** sha256 hex of `bytes` (what pointers and attestation subjects carry). */
  sha256?: string;
  /** Archive paths in the order they appear in the wheel (RECORD order). */
  entries?: string[];
}

export interface BuildOptions {
  /** Seconds since the epoch for every zip entry; hatchling's default is 1580601600. */
  sourceDateEpoch: number;
  /** WHEEL `Generator:` line; defaults to the hatchling release whose output provenant reproduces. */
  generator?: string;
}
