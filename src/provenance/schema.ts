import { z } from 'zod';

/**
 * The shapes of the statements provenant writes and reads: in-toto Statement v1 with a SLSA
 * Provenance v1 predicate (the default), and in-toto Statement v0.1 with SLSA Provenance v0.2
 * (the reference guide's format). Objects are loose because both specs tell consumers to
 * ignore fields they do not know; what a policy relies on is required here.
 */
export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_TYPE_V01 = 'https://in-toto.io/Statement/v0.1';
export const PREDICATE_SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const PREDICATE_SLSA_V02 = 'https://slsa.dev/provenance/v0.2';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters (sha256)');
const timestamp = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp' });

/** in-toto DigestSet: algorithm → lowercase hex (gitCommit, sha1, sha256, …). */
export const DigestSetSchema = z
  .record(z.string().min(1), z.string().regex(/^[0-9a-f]+$/, 'must be lowercase hex'))
  .refine((d) => Object.keys(d).length > 0, 'must name at least one digest');

export const SubjectSchema = z
  .object({
    name: z.string().min(1),
    // Subjects we accept must carry sha256: it is what the pointer pins.
    digest: z.object({ sha256: sha256Hex }).loose(),
  })
  .loose();

/** in-toto ResourceDescriptor (v1): at least one of uri, digest, content identifies it. */
export const ResourceDescriptorSchema = z
  .object({
    uri: z.string().min(1).optional(),
    digest: DigestSetSchema.optional(),
    name: z.string().min(1).optional(),
    downloadLocation: z.string().min(1).optional(),
    mediaType: z.string().min(1).optional(),
    content: z.string().optional(),
    annotations: z.record(z.string(), z.unknown()).optional(),
  })
  .loose()
  .refine((r) => r.uri !== undefined || r.digest !== undefined || r.content !== undefined, {
    message: 'a resource descriptor needs uri, digest or content',
  });

export const SlsaV1PredicateSchema = z
  .object({
    buildDefinition: z
      .object({
        buildType: z.string().min(1),
        externalParameters: z.record(z.string(), z.unknown()),
        internalParameters: z.record(z.string(), z.unknown()).optional(),
        resolvedDependencies: z.array(ResourceDescriptorSchema).optional(),
      })
      .loose(),
    runDetails: z
      .object({
        builder: z
          .object({
            id: z.string().min(1),
            version: z.record(z.string(), z.string()).optional(),
            builderDependencies: z.array(ResourceDescriptorSchema).optional(),
          })
          .loose(),
        metadata: z
          .object({
            invocationId: z.string().min(1).optional(),
            startedOn: timestamp.optional(),
            finishedOn: timestamp.optional(),
          })
          .loose()
          .optional(),
        byproducts: z.array(ResourceDescriptorSchema).optional(),
      })
      .loose(),
  })
  .loose();

export const StatementV1Schema = z
  .object({
    _type: z.literal(STATEMENT_TYPE_V1),
    subject: z.array(SubjectSchema).min(1),
    predicateType: z.literal(PREDICATE_SLSA_V1),
    predicate: SlsaV1PredicateSchema,
  })
  .loose();

/** SLSA v0.2 material / configSource: a URI and the digest of what it named. */
const MaterialSchema = z.object({ uri: z.string().min(1).optional(), digest: DigestSetSchema.optional() }).loose();

export const SlsaV02PredicateSchema = z
  .object({
    builder: z.object({ id: z.string().min(1) }).loose(),
    buildType: z.string().min(1),
    invocation: z
      .object({
        configSource: z
          .object({ uri: z.string().min(1).optional(), digest: DigestSetSchema.optional(), entryPoint: z.string().optional() })
          .loose()
          .optional(),
        parameters: z.unknown().optional(),
        environment: z.unknown().optional(),
      })
      .loose()
      .optional(),
    buildConfig: z.unknown().optional(),
    metadata: z
      .object({
        buildInvocationId: z.string().min(1).optional(),
        buildStartedOn: timestamp.optional(),
        buildFinishedOn: timestamp.optional(),
        completeness: z
          .object({ parameters: z.boolean().optional(), environment: z.boolean().optional(), materials: z.boolean().optional() })
          .loose()
          .optional(),
        reproducible: z.boolean().optional(),
      })
      .loose()
      .optional(),
    materials: z.array(MaterialSchema).optional(),
  })
  .loose();

export const StatementV01Schema = z
  .object({
    _type: z.literal(STATEMENT_TYPE_V01),
    subject: z.array(SubjectSchema).min(1),
    predicateType: z.literal(PREDICATE_SLSA_V02),
    predicate: SlsaV02PredicateSchema,
  })
  .loose();

export type StatementV1 = z.infer<typeof StatementV1Schema>;
export type StatementV01 = z.infer<typeof StatementV01Schema>;
export type SlsaV1Predicate = z.infer<typeof SlsaV1PredicateSchema>;
export type SlsaV02Predicate = z.infer<typeof SlsaV02PredicateSchema>;
export type ResourceDescriptor = z.infer<typeof ResourceDescriptorSchema>;
