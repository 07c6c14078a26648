#!/usr/bin/env node
// `npx cognito-lockout <command>`: support staff see and clear locks. Run with --help for usage.
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lockedUntilText } from '../lambdas/outbox/lockout-events';
import { isPermanent } from '../lambdas/policy/policy';
import { AdminStore } from '../lib/admin/admin-store';
import { type Prompt, confirmReset, describeReset } from '../lib/admin/confirm';
import { type OperatorIdentity, operatorNote, resolveOperator } from '../lib/admin/operator';
import { redacted } from '../lambdas/shared/redact';
import { ServerClock, watchServerDate } from '../lib/admin/server-clock';
import { AdminError } from '../lib/admin/errors';
import { rotateDeviceKey } from '../lib/admin/device-key';
import { type ResolvedIdentity, fromStack, parseDuration, resolveSignIn } from '../lib/admin/targets';

const USAGE = `Usage: cognito-lockout <command> [options]

Commands:
  status <username>                        Show whether the user is locked, its counts, and its locked devices
  unlock <username>                        Lift every lock (anonymous and device) and clear the counts and streak
  revoke-devices <username>                Revoke every device token issued to the user so far (a stolen
                                           laptop): they count as anonymous from now on
  rotate-device-key [--secret ARN]         A new device token key; tokens of the current key stay valid until
                                           the next rotation (the new key signs 10 minutes from now)
  lock <username> --for 30m|2h|7d          Lock for a time (never shortens a longer lock)
  lock <username> --permanent              Lock until an operator unlocks
  list --locked [--limit N]                Locked identities, soonest expiry first
  reset-all --yes [--count N]              Clear every lock and count (audit records stay): shows how many,
                                           then asks you to type that number back; without a terminal,
                                           --count N must match it

Where:
  --stack NAME [--region R]     Find the table and user pool from a deployed stack's outputs
  --table NAME                  Or name the table (with AWS_ENDPOINT_URL_DYNAMODB for a local one)
  --secret ARN                  The device token key's secret (set by --stack)
  --user-pool-id ID             The user pool (set by --stack). Needed by status, lock and unlock: the lockout
                                counts a user by its Cognito sub, and the pool says which user a name or alias is
  --operator NOTE               A note for the audit record (a ticket, a reason). Who acted is always recorded as
                                your AWS identity (STS GetCallerIdentity), never as a name you type
  --json                        Machine-readable output

Times are DynamoDB's (read from its answers), as the triggers use; a warning says when this machine's clock is off.
`;

interface Output {
  json: boolean;
  print(human: string, data: unknown): void;
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        stack: { type: 'string' },
        region: { type: 'string' },
        table: { type: 'string' },
        'user-pool-id': { type: 'string' },
        secret: { type: 'string' },
        operator: { type: 'string' },
        json: { type: 'boolean', default: false },
        for: { type: 'string' },
        permanent: { type: 'boolean', default: false },
        locked: { type: 'boolean', default: false },
        limit: { type: 'string' },
        yes: { type: 'boolean', default: false },
        count: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new AdminError(`${(error as Error).message}\n\n${USAGE}`, 2);
  }
  const { values: o, positionals } = parsed;
  const [command, name, ...extra] = positionals;
  if (o.help || command === undefined) {
    process.stdout.write(USAGE);
    if (!o.help) process.exitCode = 2;
    return;
  }
  const needsName = ['status', 'unlock', 'lock', 'revoke-devices'].includes(command);
  if (!['status', 'unlock', 'lock', 'list', 'reset-all', 'revoke-devices', 'rotate-device-key'].includes(command))
    throw new AdminError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`, 2);
  if (needsName && (name === undefined || extra.length > 0)) throw new AdminError(`${command} takes exactly one user name\n\n${USAGE}`, 2);
  if (!needsName && name !== undefined) throw new AdminError(`${command} takes no user name`, 2);
  if (o.secret !== undefined && command !== 'rotate-device-key') throw new AdminError('--secret is for rotate-device-key only', 2);
  if (o.stack && o.table) throw new AdminError('pass --stack or --table, not both', 2);
  if (!o.stack && !o.table) throw new AdminError(`say which table: --stack NAME or --table NAME\n\n${USAGE}`, 2);
  if (command === 'lock' && (o.for === undefined) === !o.permanent)
    throw new AdminError('lock needs exactly one of --for DURATION or --permanent', 2);
  if (command === 'list' && !o.locked) throw new AdminError('list needs --locked (the only listing there is)', 2);
  if (command === 'reset-all' && !o.yes) throw new AdminError('reset-all clears every lock and count: confirm with --yes', 2);
  if (o.count !== undefined && command !== 'reset-all') throw new AdminError('--count confirms reset-all only', 2);
  const limit = wholeNumber('--limit', o.limit, 1);
  const count = wholeNumber('--count', o.count, 0);
  const lockFor = o.for === undefined ? undefined : parseDuration(o.for);
  const note = o.operator === undefined ? undefined : operatorNote(o.operator);

  const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const stack = o.stack ? await fromStack(o.stack, region) : undefined;
  const tableName = stack?.tableName ?? o.table!;
  const userPoolId = o['user-pool-id'] ?? stack?.userPoolId;
  const clock = new ServerClock({ warn: (text) => process.stderr.write(`cognito-lockout: warning: ${text}\n`) });
  const dynamodb = new DynamoDBClient({ region });
  watchServerDate(dynamodb, clock);
  const documents = DynamoDBDocumentClient.from(dynamodb);
  const store = new AdminStore(documents, tableName, () => clock.now());
  // Asked once, by the command that changes something: reading needs no audit record, so no STS call.
  const whoActs = () => resolveOperator(region, note);
  const out: Output = {
    json: o.json,
    print: (human, data) => process.stdout.write(o.json ? `${JSON.stringify(data, null, 2)}\n` : `${human}\n`),
  };
  // Every operator action also goes to the log (stderr, so --json output stays clean).
  const log = (operator: OperatorIdentity, action: string, fields: Record<string, unknown>) =>
    process.stderr.write(
      `${JSON.stringify({ level: 'INFO', message: 'operator action', action, ...publicOperator(operator), table: tableName, at: iso(clock.now()), ...fields })}\n`,
    );

  try {
    switch (command) {
      case 'status': {
        const who = await resolveSignIn(name!, userPoolId, region);
        const status = await store.status(who.key, who.sub);
        const now = clock.now();
        const lines = [`${name}  (${describeResolution(who)}; identity ${who.logId})`];
        if (status.locked)
          lines.push(
            `  LOCKED ${status.permanent ? 'permanently (until an operator unlocks)' : `until ${iso(status.lockedUntil!)} (${inWords(status.lockedUntil! - now)} from now)`}`,
          );
        else lines.push('  not locked');
        if (status.failures > 0) lines.push(`  ${status.failures} attempt(s) counted since ${iso(status.windowStart!)}`);
        if (status.lockouts > 0) lines.push(`  ${status.lockouts} lockout(s) since the last successful sign-in`);
        if (status.clearedAt !== undefined) lines.push(`  cleared at ${iso(status.clearedAt)} (an operator's unlock or reset, or a password reset)`);
        if (status.devices !== undefined) {
          lines.push(`  ${status.devices.locked} device token bucket(s) locked (a locked device refuses only its own token)`);
          if (status.devices.revokedBefore !== undefined) lines.push(`  device tokens issued before ${iso(status.devices.revokedBefore)} revoked`);
        }
        out.print(lines.join('\n'), {
          name,
          resolvedAs: who.resolvedAs,
          identity: who.logId,
          ...status,
          lockedUntil: status.locked ? lockedUntilText(status.lockedUntil!, status.permanent) : null,
          clearedAt: status.clearedAt === undefined ? null : new Date(status.clearedAt).toISOString(),
          devices:
            status.devices === undefined
              ? null
              : {
                  locked: status.devices.locked,
                  revokedBefore: status.devices.revokedBefore === undefined ? null : new Date(status.devices.revokedBefore).toISOString(),
                },
        });
        break;
      }
      case 'unlock': {
        const who = await resolveSignIn(name!, userPoolId, region);
        const operator = await whoActs();
        // The AccountUnlocked event comes from the table's stream, like every lift (outbox.ts).
        const { wasLocked } = await store.unlock(who.key, operator, who.sub);
        log(operator, 'unlock', { identity: who.logId, wasLocked });
        out.print(wasLocked ? `${name}: unlocked, counts cleared` : `${name}: was not locked; counts cleared`, {
          name,
          identity: who.logId,
          unlocked: true,
          wasLocked,
        });
        break;
      }
      case 'revoke-devices': {
        const who = await resolveSignIn(name!, userPoolId, region);
        if (who.sub === undefined) throw new AdminError(`${name} is not a user of the pool: there are no device tokens to revoke`);
        const operator = await whoActs();
        const { revokedBefore } = await store.revokeDevices(who.sub, operator);
        log(operator, 'revoke-devices', { identity: who.logId, revokedBefore: iso(revokedBefore) });
        out.print(`${name}: device tokens issued before ${iso(revokedBefore)} revoked; the next sign-in issues a new one`, {
          name,
          identity: who.logId,
          revokedBefore: iso(revokedBefore),
        });
        break;
      }
      case 'rotate-device-key': {
        const secret = o.secret ?? stack?.deviceKeySecret;
        if (secret === undefined) throw new AdminError('say which secret: --secret ARN, or --stack NAME of a stack with device tokens on', 2);
        const operator = await whoActs();
        const secrets = new SecretsManagerClient({ region });
        try {
          // DynamoDB's time, like every other decision here: the instances compare signFrom with their own clocks.
          const signFrom = await rotateDeviceKey(secrets, secret, await store.serverNow(), (stage, details) =>
            store.auditRotation(operator, secret, stage, details),
          );
          log(operator, 'rotate-device-key', { signFrom: iso(signFrom) });
          out.print(`device key rotated: the new key signs from ${iso(signFrom)}; tokens of the previous key stay valid until the next rotation`, {
            rotated: true,
            signFrom: iso(signFrom),
          });
        } finally {
          secrets.destroy();
        }
        break;
      }
      case 'lock': {
        const who = await resolveSignIn(name!, userPoolId, region);
        const operator = await whoActs();
        const result = await store.lock(who.key, o.permanent ? 'permanent' : lockFor!, operator, who.sub);
        const text = lockedUntilText(result.lockedUntil, isPermanent(result));
        if (!result.applied) {
          const devices =
            result.devicesLockedUntil === undefined
              ? ''
              : ` (its device tokens are locked until ${lockedUntilText(result.devicesLockedUntil, isPermanent({ lockedUntil: result.devicesLockedUntil }))})`;
          throw new AdminError(`${name} is already locked until ${text}, longer than asked; unlock first to shorten a lock${devices}`);
        }
        log(operator, 'lock', { identity: who.logId, lockedUntil: text });
        out.print(`${name}: locked ${o.permanent ? 'permanently' : `until ${text}`}`, { name, identity: who.logId, lockedUntil: text });
        break;
      }
      case 'list': {
        const locked = await store.listLocked();
        const shown = limit === undefined ? locked : locked.slice(0, limit);
        const rows = shown.map(
          (l) =>
            `  ${l.key.replace(/^(signin|signup-[a-z-]+)#([0-9a-f]{16})[0-9a-f]+$/, '$1 $2').padEnd(40)} ${l.permanent ? 'permanent' : `until ${iso(l.lockedUntil)}`}   lockout #${l.lockouts}`,
        );
        const more = locked.length > shown.length ? `\n  … and ${locked.length - shown.length} more (raise --limit)` : '';
        out.print(locked.length === 0 ? 'no identity is locked' : `${locked.length} locked, soonest expiry first:\n${rows.join('\n')}${more}`, {
          total: locked.length,
          locked: shown.map((l) => ({ key: l.key, lockedUntil: lockedUntilText(l.lockedUntil, l.permanent), lockouts: l.lockouts })),
        });
        break;
      }
      case 'reset-all': {
        const plan = await store.planReset();
        if (plan.total === 0) {
          out.print('no lockout state to clear', { cleared: 0, deleted: 0, locked: 0 });
          break;
        }
        // On stderr, like the prompt: --json output stays one document.
        process.stderr.write(`${describeReset(plan)}: ${plan.signIn.length} sign-in, ${plan.signUp.length} sign-up\n`);
        await confirmReset(plan, count, terminalPrompt());
        const operator = await whoActs();
        const { cleared, deleted } = await store.resetAll(plan, operator);
        log(operator, 'reset-all', { cleared, deleted, lockedWhenCounted: plan.locked });
        out.print(`cleared ${cleared} sign-in identit${cleared === 1 ? 'y' : 'ies'} and deleted ${deleted} sign-up counter(s); audit records kept`, {
          cleared,
          deleted,
          locked: plan.locked,
        });
        break;
      }
    }
  } finally {
    documents.destroy();
  }
}

/** A question on the terminal, or undefined when there is none to answer it (a script, CI, a pipe). */
function terminalPrompt(): Prompt | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question) => {
    const terminal = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await terminal.question(question);
    } finally {
      terminal.close();
    }
  };
}

function wholeNumber(option: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min)
    throw new AdminError(`${option} takes a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(text)}`, 2);
  return value;
}

function describeResolution(who: ResolvedIdentity): string {
  if (who.resolvedAs === 'pool-user') return 'a user of the pool, counted by its sub';
  return `not a user of the pool: counted as typed${who.caseSensitive ? '' : ', in any case'}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function inWords(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

/**
 * The operator as a log line or an event may show it: the identity and note with any address redacted (an IAM
 * Identity Center session is often named by the person's email). The audit item in the table keeps them whole.
 */
function publicOperator(operator: OperatorIdentity): { operator: string; note?: string } {
  return { operator: redacted(operator.arn), ...(operator.note === undefined ? {} : { note: redacted(operator.note) }) };
}

/** Turns AWS failures into messages an operator can act on. */
function explain(error: Error): string {
  const name = error.name;
  if (name === 'ResourceNotFoundException') return `the lockout table was not found: ${error.message}. Check --table / --stack and --region.`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(error.message)) {
    return 'no AWS credentials found: configure a profile (aws configure, AWS_PROFILE) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  }
  if (/Region is missing/.test(error.message)) return 'no AWS region: pass --region or set AWS_REGION';
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId')
    return `AWS refused the request (${name}): ${error.message}`;
  return error.message;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`cognito-lockout: ${error instanceof AdminError ? error.message : explain(error)}\n`);
  process.exit(error instanceof AdminError ? error.exitCode : 1);
});
