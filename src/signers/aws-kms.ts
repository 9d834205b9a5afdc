import { createPublicKey } from 'node:crypto';
import { DescribeKeyCommand, GetPublicKeyCommand, KMSClient, SignCommand, type KMSClientConfig, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { ProvenantError } from '../errors.ts';
import { errorDetail, errorName, isCredentialFailure, isNetworkFailure, isRegionMissing } from '../util/aws-errors.ts';
import { envValue } from '../util/env.ts';
import type { DeviceKey } from './device-signer.ts';
import { describeKeyRef, type AwsKmsKeyRef } from './key-ref.ts';

/**
 * AWS KMS keys: ECC_NIST_P256 and ECC_NIST_P384 signing keys. The message is hashed here and
 * KMS signs the digest (MessageType DIGEST: no size limit, and the message never leaves the
 * machine); the public key comes from GetPublicKey. Credentials come from the SDK's chain
 * (static keys in the given environment first); the endpoint from the reference's host (over
 * https, as cosign does), else AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL.
 */
const SIGNING_ALGORITHMS: Readonly<Record<string, SigningAlgorithmSpec>> = { ECC_NIST_P256: 'ECDSA_SHA_256', ECC_NIST_P384: 'ECDSA_SHA_384' };

export interface AwsKmsOptions {
  env: NodeJS.ProcessEnv;
}

export async function openAwsKmsKey(ref: AwsKmsKeyRef, opts: AwsKmsOptions): Promise<DeviceKey> {
  const describe = describeKeyRef(ref);
  const client = new KMSClient(clientConfig(ref, opts.env));
  const close = async () => client.destroy();
  const send = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      throw kmsError(e, describe, operation);
    }
  };
  try {
    const meta = (await send('DescribeKey', () => client.send(new DescribeKeyCommand({ KeyId: ref.keyId })))).KeyMetadata;
    if (!meta?.Arn) throw kmsError(new Error('DescribeKey returned no key metadata'), describe, 'DescribeKey');
    const spec = meta.KeySpec ?? meta.CustomerMasterKeySpec ?? 'unknown';
    const algorithm = SIGNING_ALGORITHMS[spec];
    if (meta.KeyUsage !== 'SIGN_VERIFY' || !algorithm) {
      throw new ProvenantError('E_KEY_TYPE', `${describe} is a ${spec} key for ${meta.KeyUsage ?? 'unknown use'}; provenant signs with ECC_NIST_P256 or ECC_NIST_P384 SIGN_VERIFY keys`, {
        exitClass: 'input',
        hint: 'create the key with --key-spec ECC_NIST_P256 (or ECC_NIST_P384) --key-usage SIGN_VERIFY and reference it',
      });
    }
    if (meta.KeyState !== 'Enabled') {
      throw new ProvenantError('E_KMS_KEY_DISABLED', `${describe} is ${meta.KeyState ?? 'not enabled'}`, {
        exitClass: 'input',
        hint: 'enable the key (aws kms enable-key), or cancel its deletion, or reference another key',
      });
    }
    // Every later call names the key by its ARN: an alias moved meanwhile cannot switch keys.
    const arn = meta.Arn;
    const pub = await send('GetPublicKey', () => client.send(new GetPublicKeyCommand({ KeyId: arn })));
    if (!pub.PublicKey) throw kmsError(new Error('GetPublicKey returned no key'), describe, 'GetPublicKey');
    const publicKey = createPublicKey({ key: Buffer.from(pub.PublicKey), format: 'der', type: 'spki' });
    return {
      describe,
      publicKey,
      async signDigestOrMessage(digest) {
        const out = await send('Sign', () => client.send(new SignCommand({ KeyId: arn, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: algorithm })));
        if (!out.Signature) throw kmsError(new Error('Sign returned no signature'), describe, 'Sign');
        return out.Signature;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

function clientConfig(ref: AwsKmsKeyRef, env: NodeJS.ProcessEnv): KMSClientConfig {
  const endpoint = ref.endpoint ? `https://${ref.endpoint}` : envValue(env, 'AWS_ENDPOINT_URL_KMS', 'AWS_ENDPOINT_URL');
  // A key ARN names its region; otherwise the environment's, then the SDK's own chain (profile).
  const region = ref.region ?? envValue(env, 'AWS_REGION', 'AWS_DEFAULT_REGION');
  const accessKeyId = envValue(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = envValue(env, 'AWS_SECRET_ACCESS_KEY');
  const sessionToken = envValue(env, 'AWS_SESSION_TOKEN');
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 30_000, throwOnRequestTimeout: true },
  };
}

function kmsError(e: unknown, describe: string, operation: string): ProvenantError {
  if (e instanceof ProvenantError) return e;
  const name = errorName(e);
  const detail = errorDetail(e);
  const cause = e;
  if (name === 'AccessDeniedException') {
    return new ProvenantError('E_KMS_ACCESS_DENIED', `KMS denied ${operation} on ${describe}: ${detail}`, {
      exitClass: 'input',
      hint: 'allow kms:DescribeKey, kms:GetPublicKey and kms:Sign on the key for these credentials (key policy or IAM policy)',
      cause,
    });
  }
  if (name === 'NotFoundException') {
    return new ProvenantError('E_KMS_KEY_NOT_FOUND', `KMS has no key ${describe}: ${detail}`, {
      exitClass: 'not-found',
      hint: 'check the key id, alias or ARN, and the region (AWS_REGION, or the ARN\'s) and account of the credentials',
      cause,
    });
  }
  if (name === 'DisabledException' || name === 'KMSInvalidStateException') {
    return new ProvenantError('E_KMS_KEY_DISABLED', `${describe} cannot sign now (${name}): ${detail}`, {
      exitClass: 'input',
      hint: 'enable the key (aws kms enable-key), or cancel its deletion, or reference another key',
      cause,
    });
  }
  if (isCredentialFailure(e)) {
    return new ProvenantError('E_KMS_CREDENTIALS', `KMS rejected or could not find credentials for ${describe}: ${detail}`, {
      exitClass: 'input',
      hint: 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE (or SSO login), or a web identity role',
      cause,
    });
  }
  if (isRegionMissing(e)) {
    return new ProvenantError('E_KMS_REGION', `no AWS region for ${describe}`, {
      exitClass: 'usage',
      hint: 'set AWS_REGION, or reference the key by its ARN (which names the region)',
      cause,
    });
  }
  if (isNetworkFailure(e)) {
    return new ProvenantError('E_KMS_NETWORK', `KMS ${operation} for ${describe} failed: ${detail}`, {
      exitClass: 'network',
      hint: 'check the network and the endpoint (the reference\'s host, AWS_ENDPOINT_URL_KMS), then rerun',
      cause,
    });
  }
  return new ProvenantError('E_KMS_REQUEST', `KMS ${operation} for ${describe} failed: ${name}: ${detail}`, {
    exitClass: 'internal',
    hint: 'rerun with -v; if it persists, check the key reference and the KMS key policy',
    cause,
  });
}

