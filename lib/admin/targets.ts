/**
 * Where the admin CLI acts: the lockout table (from the deployed stack's outputs, or named), and which item a
 * user name means. In pools where email is the sign-in name, Cognito's user name is a generated UUID and the
 * triggers key on it; the CLI asks the pool for it, and falls back to the typed name for names the pool does not
 * know (the unknown names attackers try are keyed as typed).
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { AdminGetUserCommand, CognitoIdentityProviderClient, UserNotFoundException } from '@aws-sdk/client-cognito-identity-provider';
import { TARGETS_OUTPUT_DESCRIPTION } from '../../lambdas/engine/contract';
import { signInIdentity } from '../../lambdas/engine/identity';

export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface StackTargets {
  readonly tableName: string;
  readonly userPoolId?: string;
  /** The bus the stack's triggers send events to; null when events are off; undefined when the stack does not say. */
  readonly eventBus?: string | null;
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
      const targets = JSON.parse(described[0].OutputValue ?? '{}') as { table?: string; userPoolId?: string; eventBus?: string | null };
      if (!targets.table) throw new AdminError(`stack ${stackName}: the lockout's output names no table`);
      return { tableName: targets.table, userPoolId: targets.userPoolId, eventBus: targets.eventBus ?? null };
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

export interface ResolvedIdentity {
  readonly key: string;
  readonly logId: string;
  /** How the name was interpreted. */
  readonly resolvedAs: 'pool-user' | 'unknown-to-pool' | 'as-typed';
}

export async function resolveSignIn(name: string, userPoolId: string | undefined, region: string | undefined): Promise<ResolvedIdentity> {
  if (userPoolId === undefined) return { ...signInIdentity(name), resolvedAs: 'as-typed' };
  const cognito = new CognitoIdentityProviderClient({ region });
  try {
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: name }));
    return { ...signInIdentity(user.Username!), resolvedAs: 'pool-user' };
  } catch (error) {
    if (error instanceof UserNotFoundException || (error as Error).name === 'UserNotFoundException')
      return { ...signInIdentity(name), resolvedAs: 'unknown-to-pool' };
    throw error;
  } finally {
    cognito.destroy();
  }
}

/** `90s`, `30m`, `2h`, `7d` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  const unit = match ? { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'] : undefined;
  const ms = match && unit ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new AdminError(`--for takes a duration like 90s, 30m, 2h or 7d, got ${JSON.stringify(text)}`, 2);
  return ms;
}
