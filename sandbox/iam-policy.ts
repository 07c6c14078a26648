/**
 * IAM's evaluation of an identity-based policy, as much of it as the lockout's policies use, so that the sandbox and
 * the DynamoDB Local suites refuse what AWS would refuse (docs/development.md, "IAM in the tests"). The policies come
 * from the synthesized template (iam-template.ts); the requests from the SDK's own HTTP requests (iam-requests.ts).
 *
 * Evaluated as AWS documents it: an explicit Deny wins; otherwise a request needs an Allow statement whose Action and
 * Resource match (`*` and `?` wildcards; actions case-insensitively) and whose every condition holds. Any policy
 * element or condition operator not modelled here is an error when the policy is read, never silently ignored: a
 * policy this module cannot evaluate exactly must not pass a test.
 */

export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  /** ARNs, wildcards allowed; resolved to the local services' names. */
  readonly resources: readonly string[];
  readonly conditions: readonly Condition[];
}

/** One key of one operator: true when the request's values for `key` satisfy `values` as `operator` says. */
export interface Condition {
  readonly operator: ConditionOperator;
  readonly key: string;
  readonly values: readonly string[];
}

/**
 * The operators the construct writes. `ForAllValues:` holds when every value the request has for the key matches one
 * of the policy's values, and also when the request has none (IAM's documented behaviour, kept as it is: a request
 * without keys is not refused by a LeadingKeys condition). The plain operators are single-valued: a request without
 * the key fails them.
 */
const OPERATORS = ['StringEquals', 'StringLike', 'ForAllValues:StringEquals', 'ForAllValues:StringLike', 'ForAnyValue:StringLike'] as const;
export type ConditionOperator = (typeof OPERATORS)[number];

/** What one request asks: an action on a resource, with the condition keys the service sets for it. */
export interface AuthorizationRequest {
  /** `service:Operation`, as IAM names it. */
  readonly action: string;
  readonly resource: string;
  /** Condition keys (lower case) and their values in this request. */
  readonly context: Readonly<Record<string, readonly string[]>>;
}

/** Who asks: a function's execution role, as the function's credentials identify it. */
export interface RolePrincipal {
  /** The function's name: the session name Lambda gives the role's session. */
  readonly functionName: string;
  readonly roleName: string;
  readonly accountId: string;
  readonly statements: readonly PolicyStatement[];
}

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly explicitDeny: boolean };

export function authorize(principal: RolePrincipal, request: AuthorizationRequest): Decision {
  const applies = (statement: PolicyStatement) =>
    statement.actions.some((pattern) => wildcardMatch(pattern, request.action, true)) &&
    statement.resources.some((pattern) => wildcardMatch(pattern, request.resource, false)) &&
    statement.conditions.every((condition) => conditionHolds(condition, request.context[condition.key.toLowerCase()]));
  if (principal.statements.some((s) => s.effect === 'Deny' && applies(s))) return { allowed: false, explicitDeny: true };
  if (principal.statements.some((s) => s.effect === 'Allow' && applies(s))) return { allowed: true };
  return { allowed: false, explicitDeny: false };
}

/** The assumed-role ARN Lambda's credentials stand for: what AWS names in a refusal. */
export function sessionArn(principal: RolePrincipal): string {
  return `arn:aws:sts::${principal.accountId}:assumed-role/${principal.roleName}/${principal.functionName}`;
}

/** The text IAM gives a refused request (the SDK surfaces it as the error's message). */
export function refusalMessage(principal: RolePrincipal, request: AuthorizationRequest, decision: Extract<Decision, { allowed: false }>): string {
  const why = decision.explicitDeny
    ? `with an explicit deny in an identity-based policy`
    : `because no identity-based policy allows the ${request.action} action`;
  return `User: ${sessionArn(principal)} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`;
}

function conditionHolds(condition: Condition, requestValues: readonly string[] | undefined): boolean {
  const values = requestValues ?? [];
  const like = condition.operator.endsWith('StringLike');
  const matchesOne = (value: string) => condition.values.some((pattern) => (like ? wildcardMatch(pattern, value, false) : pattern === value));
  switch (condition.operator) {
    case 'ForAllValues:StringEquals':
    case 'ForAllValues:StringLike':
      return values.every(matchesOne);
    case 'ForAnyValue:StringLike':
      return values.some(matchesOne);
    case 'StringEquals':
    case 'StringLike':
      // A single-valued operator on a key the request does not carry fails, as in IAM.
      return values.length === 1 && matchesOne(values[0]);
  }
}

/** IAM's wildcards: `*` any run of characters, `?` one character; everything else literal. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

/**
 * A policy document's statements, with values already resolved to strings (iam-template.ts resolves the template's
 * references first). Throws on anything this module does not evaluate: NotAction, NotResource, NotPrincipal,
 * an unknown operator or an IfExists variant.
 */
export function parseStatements(document: unknown, where: string): PolicyStatement[] {
  const statements = (document as { Statement?: unknown }).Statement;
  const list = Array.isArray(statements) ? statements : [statements];
  return list.map((raw, i) => {
    const s = raw as Record<string, unknown>;
    const at = `${where} statement ${i + 1}`;
    for (const element of Object.keys(s)) {
      if (!['Sid', 'Effect', 'Action', 'Resource', 'Condition'].includes(element))
        throw new Error(`${at}: the policy element ${element} is not evaluated by the local IAM (sandbox/iam-policy.ts)`);
    }
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new Error(`${at}: Effect must be Allow or Deny, got ${JSON.stringify(s.Effect)}`);
    const conditions: Condition[] = [];
    for (const [operator, keys] of Object.entries((s.Condition as Record<string, Record<string, unknown>> | undefined) ?? {})) {
      if (!(OPERATORS as readonly string[]).includes(operator))
        throw new Error(`${at}: the condition operator ${operator} is not evaluated by the local IAM (sandbox/iam-policy.ts)`);
      for (const [key, values] of Object.entries(keys))
        conditions.push({ operator: operator as ConditionOperator, key, values: strings(values, at) });
    }
    return { effect: s.Effect, actions: strings(s.Action, at), resources: strings(s.Resource, at), conditions };
  });
}

function strings(value: unknown, at: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((item): item is string => typeof item === 'string'))
    throw new Error(`${at}: expected resolved strings, got ${JSON.stringify(value)}`);
  return list;
}
