/**
 * How to read what the AWS SDK throws, for every AWS service provenant talks to (S3, KMS): the
 * error name, the HTTP status and Node's socket error codes, looked at together because
 * AWS-compatible servers spell the same failure differently.
 */
const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'CredentialsProviderError',
  'AuthorizationHeaderMalformed',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

export function errorName(e: unknown): string {
  return (e as { name?: string; Code?: string }).Code ?? (e as { name?: string }).name ?? '';
}

export function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

export function errorDetail(e: unknown): string {
  return (e as Error).message || errorName(e) || 'unknown error';
}

/** Missing, unknown, expired or malformed credentials. */
export function isCredentialFailure(e: unknown): boolean {
  return CREDENTIAL_CODES.has(errorName(e)) || /could not load credentials/i.test(errorDetail(e));
}

export function isRegionMissing(e: unknown): boolean {
  return /region is missing/i.test(errorDetail(e));
}

/** The service could not be reached or answered 5xx (after the SDK's retries). */
export function isNetworkFailure(e: unknown): boolean {
  const name = errorName(e);
  const status = httpStatus(e);
  const sysCode = (e as { code?: string }).code ?? '';
  return (
    NETWORK_CODES.has(sysCode) ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout' ||
    name === 'AbortError' ||
    (status !== undefined && status >= 500) ||
    /socket hang up|ECONNREFUSED|ECONNRESET|network/i.test(errorDetail(e))
  );
}
