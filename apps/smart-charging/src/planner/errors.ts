/**
 * The planner's input error: every problem with a request names the field and what is allowed, so a
 * CLI or an API can show it to a person without a stack trace.
 */

export type PlanInputErrorCode =
  /** A field is missing, malformed or outside its allowed values. */
  | 'invalid-request'
  /** No price is known for any slot of the horizon; the planner does not invent one. */
  | 'no-prices';

export interface PlanInputIssue {
  /** Dotted path of the field (`vehicles.3.departure`), empty for the request as a whole. */
  readonly path: string;
  readonly message: string;
}

export class PlanInputError extends Error {
  override name = 'PlanInputError';
  readonly code: PlanInputErrorCode;
  readonly issues: readonly PlanInputIssue[];
  constructor(issues: readonly PlanInputIssue[], code: PlanInputErrorCode = 'invalid-request') {
    super(issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('\n'));
    this.issues = issues;
    this.code = code;
  }
}

/** Zod issues (from `safeParse`) as planner issues, with the path joined by dots. */
export function issuesFromZod(
  issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[],
  prefix = '',
): PlanInputIssue[] {
  return issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.'),
    message: i.message,
  }));
}
