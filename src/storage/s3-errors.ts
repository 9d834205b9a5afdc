import { ProvenantError } from '../errors.ts';
import { errorDetail, errorName, httpStatus, isCredentialFailure, isNetworkFailure, isRegionMissing } from '../util/aws-errors.ts';

/**
 * Turns what the AWS SDK throws into a ProvenantError a user can act on. S3 and S3-compatible
 * servers spell the same failure differently (a HEAD has no error body, MinIO and AWS use different
 * codes for some cases), so the mapping looks at the error name, the HTTP status and Node's
 * socket error codes together.
 */
export interface S3Failure {
  location: string;
  key?: string;
  operation: string;
}

/** 412 (precondition failed) or 409 (a concurrent conditional write won the race). */
export function isPreconditionFailure(e: unknown): boolean {
  const name = errorName(e);
  const status = httpStatus(e);
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409;
}

export function isNoSuchKey(e: unknown): boolean {
  const name = errorName(e);
  return name === 'NoSuchKey' || (name === 'NotFound' && httpStatus(e) === 404);
}

export function isNoSuchBucket(e: unknown): boolean {
  return errorName(e) === 'NoSuchBucket';
}

export function s3Error(e: unknown, where: S3Failure): ProvenantError {
  if (e instanceof ProvenantError) return e;
  const name = errorName(e);
  const status = httpStatus(e);
  const detail = errorDetail(e);
  const at = where.key ? `${where.location} (${where.key})` : where.location;
  const file = where.key ? `${where.location}/${where.key}` : where.location;
  const cause = e;

  if (isCredentialFailure(e)) {
    return new ProvenantError('E_S3_CREDENTIALS', `S3 rejected or could not find credentials for ${at}: ${detail}`, {
      exitClass: 'input',
      file,
      hint: 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (or SSO login), or a web identity role; check the key is active',
      cause,
    });
  }
  if (name === 'NoSuchBucket') {
    return new ProvenantError('E_S3_NO_BUCKET', `the bucket of ${where.location} does not exist`, {
      exitClass: 'not-found',
      file: where.location,
      hint: 'create the bucket first (see docs/s3.md), or fix the bucket name, --region and --endpoint-url',
      cause,
    });
  }
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || name === 'Forbidden' || status === 403) {
    return new ProvenantError('E_S3_ACCESS_DENIED', `access denied: ${where.operation} on ${at}`, {
      exitClass: 'input',
      file,
      hint: 'grant s3:GetObject, s3:PutObject and s3:ListBucket on the bucket and prefix to these credentials (docs/s3.md)',
      cause,
    });
  }
  if (isRegionMissing(e)) {
    return new ProvenantError('E_S3_REGION', `no AWS region configured for ${where.location}`, {
      exitClass: 'usage',
      field: '--region',
      hint: 'pass --region (e.g. --region eu-north-1) or set AWS_REGION',
      cause,
    });
  }
  if (isNetworkFailure(e)) {
    return new ProvenantError('E_S3_NETWORK', `S3 request failed: ${where.operation} on ${at}: ${detail}`, {
      exitClass: 'network',
      file,
      hint: 'check the network, --endpoint-url and --region, then rerun (publishing is safe to retry)',
      cause,
    });
  }
  return new ProvenantError('E_S3_REQUEST', `S3 ${where.operation} on ${at} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${detail}`, {
    exitClass: 'internal',
    file,
    hint: 'rerun with -vv for the full S3 response; check the bucket, its policy and --endpoint-url',
    cause,
  });
}
