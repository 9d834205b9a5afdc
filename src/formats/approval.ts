import { z } from 'zod';
import { IN_TOTO_STATEMENT_V1, parseStatementPayload, renderStatement } from './signed-statement.ts';

/**
 * A release approval (docs/approvals.md): an in-toto statement whose subject is the wheel
 * (file name and sha256) and whose predicate says who approved it, when and why. Pure.
 */
export const APPROVAL_PREDICATE_TYPE = 'https://provenant.dev/approval/v1';

export interface ApprovalInput {
  project: string;
  version: string;
  wheelFileName: string;
  sha256: string;
  note: string;
  approvedAt: Date;
}

const ApprovalStatementSchema = z.object({
  _type: z.literal(IN_TOTO_STATEMENT_V1),
  subject: z
    .array(z.object({ name: z.string().min(1), digest: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }) }))
    .length(1),
  predicateType: z.literal(APPROVAL_PREDICATE_TYPE),
  predicate: z.object({
    project: z.string().min(1),
    version: z.string().min(1),
    note: z.string(),
    approvedAt: z.string().min(1),
  }),
});

export type ApprovalStatement = z.infer<typeof ApprovalStatementSchema>;

export function approvalStatement(i: ApprovalInput): ApprovalStatement {
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: i.wheelFileName, digest: { sha256: i.sha256 } }],
    predicateType: APPROVAL_PREDICATE_TYPE,
    predicate: { project: i.project, version: i.version, note: i.note, approvedAt: i.approvedAt.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}

export function renderApprovalStatement(s: ApprovalStatement): Uint8Array {
  return renderStatement(s);
}

/** The statement, or why the bytes are not an approval statement. */
export function parseApprovalStatement(payload: Uint8Array): { statement: ApprovalStatement } | { problem: string } {
  return parseStatementPayload(ApprovalStatementSchema, payload, `an approval statement (${APPROVAL_PREDICATE_TYPE})`);
}
