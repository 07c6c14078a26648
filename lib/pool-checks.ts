import { Annotations, type CfnResource, Stack, Token } from 'aws-cdk-lib';
import { CfnUserPool, CfnUserPoolClient, type IUserPool, UserPool } from 'aws-cdk-lib/aws-cognito';
import type { Construct, IConstruct } from 'constructs';

/**
 * What the construct checks in the pool it protects, and in every client of that pool it can see in the app. Each
 * is a setting with which the lockout's guarantees fail (an error at synth) or weaken (a warning naming the fix).
 * `acceptedPoolRisks` turns one off for a deployer who knows why.
 */
export enum PoolRisk {
  /** The pool compares sign-in names case-sensitively: "Jane" and "jane" can be two users (a warning). */
  CASE_SENSITIVE_SIGN_IN = 'case-sensitive-sign-in',
  /**
   * A client without PreventUserExistenceErrors: Cognito answers unknown names itself, without running
   * pre-authentication, so unknown names are never counted and Cognito's own errors tell which names exist.
   */
  USER_EXISTENCE_ERRORS = 'user-existence-errors',
  /**
   * A client allowing CUSTOM_AUTH (CDK's default when `authFlows` is unset): pre-authentication may not run for it
   * (cognito-triggers.md, UNVERIFIED), so guesses through it would not be counted.
   */
  CUSTOM_AUTH = 'custom-auth',
  /** A client allowing USER_AUTH (choice-based sign-in): whether pre-authentication runs for it is UNVERIFIED (a warning; UncountedSignIns tells). */
  USER_AUTH = 'user-auth',
}

const RISK_MEMBERS = new Map(Object.entries(PoolRisk).map(([member, value]) => [value as string, `PoolRisk.${member}`]));

/**
 * How the pool compares sign-in names, read when the app is synthesized (so a property override or a change made
 * after the construct counts): from the pool's own template when it is a `UserPool` of this app (CDK leaves
 * `UsernameConfiguration` out by default, and Cognito then compares case-sensitively), else from the prop, which
 * a pool the construct cannot read requires.
 */
export function poolCaseSensitivity(pool: IUserPool, declared: boolean | undefined): () => boolean {
  if (!(pool instanceof UserPool)) {
    if (declared === undefined) {
      throw new Error(
        'CognitoLockout: signInCaseSensitive must be set for a user pool not defined in this app (the construct cannot read its ' +
          'UsernameConfiguration): true when the pool compares sign-in names case-sensitively, false otherwise. A wrong value lets ' +
          'attempts on unknown names tell which names exist.',
      );
    }
    return () => declared;
  }
  return () => {
    const config = rendered(pool.node.defaultChild as CfnUserPool).UsernameConfiguration as { CaseSensitive?: unknown } | undefined;
    const fromPool = config?.CaseSensitive;
    if (fromPool !== undefined && typeof fromPool !== 'boolean') {
      throw new Error("CognitoLockout: the user pool's case sensitivity is not a literal: set the pool's signInCaseSensitive to true or false");
    }
    const actual = fromPool ?? true;
    if (declared !== undefined && declared !== actual) {
      throw new Error(
        `CognitoLockout: signInCaseSensitive is ${declared}, but the user pool is ${actual ? 'case-sensitive' : 'case-insensitive'}: remove the prop`,
      );
    }
    return actual;
  };
}

/**
 * The properties CloudFormation will get for `resource`, overrides (`addPropertyOverride`) included: what Cognito
 * will actually be configured with, which is what the checks are about.
 */
function rendered(resource: CfnResource): Record<string, unknown> {
  const template = (resource as unknown as { _toCloudFormation(): unknown })._toCloudFormation();
  const resolved = Stack.of(resource).resolve(template) as { Resources?: Record<string, { Properties?: Record<string, unknown> }> };
  return Object.values(resolved.Resources ?? {})[0]?.Properties ?? {};
}

/** Checks the pool and its clients at synth (after every construct of the app exists), reporting on `scope`. */
export function checkPoolAtSynth(scope: Construct, pool: IUserPool, caseSensitive: () => boolean, accepted: readonly PoolRisk[]): void {
  for (const risk of accepted) {
    if (!RISK_MEMBERS.has(risk))
      throw new Error(`CognitoLockout: acceptedPoolRisks may contain ${[...RISK_MEMBERS.values()].join(', ')}, got ${JSON.stringify(risk)}`);
  }
  scope.node.addValidation({
    validate: () => {
      const errors: string[] = [];
      const report = (risk: PoolRisk, severity: 'error' | 'warning', message: string) => {
        if (accepted.includes(risk)) return;
        const text = `${message} (or accept the risk: acceptedPoolRisks: [${RISK_MEMBERS.get(risk)}])`;
        if (severity === 'error') errors.push(`CognitoLockout: ${text}`);
        else Annotations.of(scope).addWarningV2(`cognito-lockout:${risk}`, text);
      };
      let sensitive: boolean;
      try {
        sensitive = caseSensitive();
      } catch (error) {
        return [(error as Error).message];
      }
      if (sensitive) {
        report(
          PoolRisk.CASE_SENSITIVE_SIGN_IN,
          'warning',
          'the user pool compares sign-in names case-sensitively, so "Jane" and "jane" can be two accounts, and look-alike names can ' +
            'be registered beside real ones. The lockout follows Cognito (one counter per user), but users meet confusing errors. ' +
            'Create the pool with signInCaseSensitive: false (it cannot change after creation)',
        );
      }
      for (const client of clientsOf(scope, pool)) checkClient(client, report);
      return errors;
    },
  });
}

function checkClient(client: CfnUserPoolClient, report: (risk: PoolRisk, severity: 'error' | 'warning', message: string) => void): void {
  // The L2 client's path (the CfnUserPoolClient is its `Resource`), as the app's author wrote it.
  const name = (client.node.scope ?? client).node.path;
  const props = rendered(client);
  const prevent = props.PreventUserExistenceErrors;
  if (!Token.isUnresolved(prevent) && prevent !== 'ENABLED') {
    report(
      PoolRisk.USER_EXISTENCE_ERRORS,
      'error',
      `the app client ${name} does not prevent user existence errors: Cognito answers unknown names without pre-authentication, ` +
        'so they are never counted and its errors tell which names exist. Set preventUserExistenceErrors: true',
    );
  }
  const flows = props.ExplicitAuthFlows as string[] | undefined;
  if (flows !== undefined && (Token.isUnresolved(flows) || !Array.isArray(flows))) return;
  // Without ExplicitAuthFlows Cognito allows SRP, CUSTOM_AUTH and refresh: CDK omits them when `authFlows` is unset.
  const allowed = flows ?? ['ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'];
  if (allowed.some((flow) => flow === 'ALLOW_CUSTOM_AUTH' || flow === 'CUSTOM_AUTH_FLOW_ONLY')) {
    report(
      PoolRisk.CUSTOM_AUTH,
      'error',
      `the app client ${name} allows CUSTOM_AUTH${flows === undefined ? " (CDK's default when authFlows is unset)" : ''}, for which ` +
        'pre-authentication may not run, so guesses through it may go uncounted. Set authFlows to the flows you use (at least one, ' +
        'e.g. { userSrp: true }), without custom',
    );
  }
  if (allowed.includes('ALLOW_USER_AUTH')) {
    // Accepted with a warning: the accounting (accounting.ts) tells each deployment whether its sign-ins are counted.
    report(
      PoolRisk.USER_AUTH,
      'warning',
      `the app client ${name} allows USER_AUTH (choice-based sign-in). AWS does not document whether Cognito runs ` +
        'pre-authentication for it (nor at which step): the lockout assumes it does for PASSWORD and PASSWORD_SRP. If it does not, ' +
        "sign-ins through it are not counted, and the UncountedSignIns alarm (the lockout's monitoring) and SignInUncounted events " +
        'say so. Passwordless choices (EMAIL_OTP, SMS_OTP, WEB_AUTHN) involve no password and are not limited by this lockout',
    );
  }
}

/** Every client in the app whose pool is `pool` (the same token, or the same literal id). */
function clientsOf(scope: Construct, pool: IUserPool): CfnUserPoolClient[] {
  const poolId = Stack.of(pool).resolve(pool.userPoolId) as unknown;
  return scope.node.root.node
    .findAll()
    .filter((c: IConstruct): c is CfnUserPoolClient => c instanceof CfnUserPoolClient)
    .filter((client) => client.userPoolId === pool.userPoolId || sameValue(Stack.of(client).resolve(client.userPoolId), poolId, client, pool));
}

function sameValue(a: unknown, b: unknown, client: IConstruct, pool: IConstruct): boolean {
  // A Ref resolves to the same object only within one stack; across stacks the first comparison (the token) holds.
  return Stack.of(client) === Stack.of(pool) && JSON.stringify(a) === JSON.stringify(b);
}
