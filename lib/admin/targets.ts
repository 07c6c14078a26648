/**
 * Where the admin CLI acts: the lockout table (from the deployed stack's outputs, or named), and which item a
 * user name means. The triggers key a user Cognito knows by its `sub`, and a name Cognito resolves to nobody by
 * the text compared as the pool compares names (lambdas/identity/identity.ts); the CLI asks the pool which of the
 * two a typed name is, exactly as Cognito would resolve it at sign-in.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { TARGETS_OUTPUT_DESCRIPTION } from '../../lambdas/shared/contract';
import { type IdentityRef, unknownNameIdentity, userIdentity } from '../../lambdas/identity/identity';
import { AdminError } from './errors';

export { AdminError } from './errors';

export interface StackTargets {
  readonly tableName: string;
  readonly userPoolId?: string;
  /** The bus the stack's triggers send events to; null when events are off; undefined when the stack does not say. */
  readonly eventBus?: string | null;
  /** The device token key's secret (ARN); undefined when device tokens are off or the stack does not say. */
  readonly deviceKeySecret?: string;
}

/**
 * The table, pool and bus of the lockout in a deployed stack: from the construct's own output (found by its
 * description, so any stack that contains the construct works), else from the project stack's named outputs.
 */
export async function fromStack(stackName: string, region: string | undefined): Promise<StackTargets> {
  const cloudFormation = new CloudFormationClient({ region });
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const all = Stacks?.[0]?.Outputs ?? [];
    const described = all.filter((o) => o.Description === TARGETS_OUTPUT_DESCRIPTION);
    if (described.length > 1)
      throw new AdminError(`stack ${stackName} holds ${described.length} lockouts: name the table with --table (and --user-pool-id)`, 2);
    if (described.length === 1) {
      const targets = JSON.parse(described[0].OutputValue ?? '{}') as {
        table?: string;
        userPoolId?: string;
        eventBus?: string | null;
        deviceKeySecret?: string | null;
      };
      if (!targets.table) throw new AdminError(`stack ${stackName}: the lockout's output names no table`);
      return {
        tableName: targets.table,
        userPoolId: targets.userPoolId,
        eventBus: targets.eventBus ?? null,
        deviceKeySecret: targets.deviceKeySecret ?? undefined,
      };
    }
    const outputs = Object.fromEntries(all.map((o) => [o.OutputKey, o.OutputValue]));
    if (!outputs.LockoutTableName)
      throw new AdminError(`stack ${stackName} has no cognito-lockout output: does it contain the CognitoLockout construct?`);
    return { tableName: outputs.LockoutTableName, userPoolId: outputs.UserPoolId };
  } catch (error) {
    if ((error as Error).name === 'ValidationError') throw new AdminError(`stack ${stackName} not found${region ? ` in ${region}` : ''}`);
    throw error;
  } finally {
    cloudFormation.destroy();
  }
}

export interface ResolvedIdentity extends IdentityRef {
  /** How the name was interpreted: a user of the pool (keyed by its `sub`), or a name the pool does not know. */
  readonly resolvedAs: 'pool-user' | 'unknown-to-pool';
  /** For a name the pool does not know: whether the pool compares names case-sensitively. */
  readonly caseSensitive?: boolean;
}

/**
 * The identity the triggers count for `name` (a user name or an alias, as typed at sign-in). Without the pool the
 * CLI cannot tell a user's `sub`, and guessing (keying the name as typed) would show and change a counter no
 * trigger uses: refused, saying what to pass. `list` and `reset-all` need no name and work with the table alone.
 */
export async function resolveSignIn(name: string, userPoolId: string | undefined, region: string | undefined): Promise<ResolvedIdentity> {
  if (userPoolId === undefined)
    throw new AdminError(
      `cannot tell which user ${JSON.stringify(name)} is without the user pool (the lockout counts a user by its Cognito sub): ` +
        'pass --user-pool-id ID, or --stack NAME',
      2,
    );
  const cognito = new CognitoIdentityProviderClient({ region });
  try {
    const sub = await subOf(cognito, userPoolId, name);
    if (sub !== undefined) return { ...userIdentity(sub), resolvedAs: 'pool-user' };
    const caseSensitive = await comparesCaseSensitively(cognito, userPoolId);
    return { ...unknownNameIdentity(name, { caseSensitive }), resolvedAs: 'unknown-to-pool', caseSensitive };
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException')
      throw new AdminError(`user pool ${userPoolId} not found${region ? ` in ${region}` : ''}: check --user-pool-id / --stack and --region`);
    throw error;
  } finally {
    cognito.destroy();
  }
}

/**
 * The user's `sub`, or undefined when the pool knows no such user. `AdminGetUser` resolves a name the way sign-in
 * does: the user name or an alias (email, phone, preferred_username), with the pool's case sensitivity.
 */
async function subOf(cognito: CognitoIdentityProviderClient, userPoolId: string, name: string): Promise<string | undefined> {
  try {
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: name }));
    const sub = user.UserAttributes?.find((attribute) => attribute.Name === 'sub')?.Value;
    if (!sub) throw new AdminError(`Cognito returned user ${JSON.stringify(name)} without a sub attribute: its lockout state cannot be found`);
    return sub;
  } catch (error) {
    if (error instanceof UserNotFoundException || (error as Error).name === 'UserNotFoundException') return undefined;
    throw error;
  }
}

/** `UsernameConfiguration.CaseSensitive`. A pool that does not say compares exactly: Cognito's default without the setting. */
async function comparesCaseSensitively(cognito: CognitoIdentityProviderClient, userPoolId: string): Promise<boolean> {
  const { UserPool } = await cognito.send(new DescribeUserPoolCommand({ UserPoolId: userPoolId }));
  return UserPool?.UsernameConfiguration?.CaseSensitive ?? true;
}

/** `90s`, `30m`, `2h`, `7d` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  const unit = match ? { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'] : undefined;
  const ms = match && unit ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new AdminError(`--for takes a duration like 90s, 30m, 2h or 7d, got ${JSON.stringify(text)}`, 2);
  return ms;
}
