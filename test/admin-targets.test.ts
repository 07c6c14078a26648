import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ResourceNotFoundException,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { TARGETS_OUTPUT_DESCRIPTION } from '../lambdas/shared/contract';
import { unknownNameIdentity, userIdentity } from '../lambdas/identity/identity';
import { AdminError } from '../lib/admin/errors';
import { fromStack, parseDuration, resolveSignIn } from '../lib/admin/targets';

const cloudFormation = mockClient(CloudFormationClient);
const cognito = mockClient(CognitoIdentityProviderClient);
beforeEach(() => {
  cloudFormation.reset();
  cognito.reset();
});

describe('finding the lockout table from a stack', () => {
  it('reads the table and user pool from the stack outputs', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'CognitoLockout' }).resolves({
      Stacks: [
        {
          StackName: 'CognitoLockout',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'LockoutTableName', OutputValue: 'CognitoLockout-LockoutTable-1ABC' },
            { OutputKey: 'UserPoolId', OutputValue: 'eu-west-1_AbCdEfGhI' },
          ],
        },
      ],
    });
    await expect(fromStack('CognitoLockout', 'eu-west-1')).resolves.toEqual({
      tableName: 'CognitoLockout-LockoutTable-1ABC',
      userPoolId: 'eu-west-1_AbCdEfGhI',
    });
  });

  it('names a stack that does not exist', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: {},
        message: 'Stack with id Nope does not exist',
      }),
    );
    await expect(fromStack('Nope', 'eu-west-1')).rejects.toThrow('stack Nope not found in eu-west-1');
  });

  it('refuses a stack that is not a cognito-lockout stack', async () => {
    cloudFormation
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'Other', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
    await expect(fromStack('Other', undefined)).rejects.toThrow(
      'stack Other has no cognito-lockout output: does it contain the CognitoLockout construct?',
    );
  });

  const stackWith = (outputs: Array<{ OutputKey: string; OutputValue: string; Description?: string }>) => ({
    Stacks: [{ StackName: 'App', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE' as const, Outputs: outputs }],
  });

  it('finds the construct in any stack by its output, with the bus its triggers use', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(
      stackWith([
        { OutputKey: 'ApiUrl', OutputValue: 'https://example.com' },
        {
          OutputKey: 'AuthLockoutAdminTargets3F2A',
          Description: TARGETS_OUTPUT_DESCRIPTION,
          OutputValue: JSON.stringify({ table: 'App-Table-9', userPoolId: 'eu-west-1_X', eventBus: 'security' }),
        },
      ]),
    );
    await expect(fromStack('App', 'eu-west-1')).resolves.toEqual({ tableName: 'App-Table-9', userPoolId: 'eu-west-1_X', eventBus: 'security' });
  });

  it('reports events off as a null bus', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(
      stackWith([
        {
          OutputKey: 'LockoutAdminTargets',
          Description: TARGETS_OUTPUT_DESCRIPTION,
          OutputValue: JSON.stringify({ table: 'T-1', userPoolId: 'p', eventBus: null }),
        },
      ]),
    );
    await expect(fromStack('App', undefined)).resolves.toMatchObject({ eventBus: null });
  });

  it('asks for --table when a stack holds two lockouts', async () => {
    const output = (key: string) => ({
      OutputKey: key,
      Description: TARGETS_OUTPUT_DESCRIPTION,
      OutputValue: JSON.stringify({ table: key, userPoolId: 'p', eventBus: null }),
    });
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith([output('A'), output('B')]));
    await expect(fromStack('App', undefined)).rejects.toThrow('stack App holds 2 lockouts: name the table with --table (and --user-pool-id)');
  });
});

describe('--for durations', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
  ])('reads %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['0m', '10', '1w', '-5m', '2.5h', ''])('rejects %p', (text) =>
    expect(() => parseDuration(text)).toThrow('--for takes a duration like 90s, 30m, 2h or 7d'),
  );
});

describe('which identity a typed name means', () => {
  const POOL = 'eu-west-1_AbCdEfGhI';
  const JANE_SUB = '7f3c1e2a-0000-4000-8000-00000000000a';
  const notFound = () => new UserNotFoundException({ $metadata: {}, message: 'User does not exist.' });

  it('keys a user of the pool by its sub, whatever name or alias was typed', async () => {
    cognito.on(AdminGetUserCommand, { UserPoolId: POOL }).resolves({
      Username: JANE_SUB,
      UserAttributes: [
        { Name: 'email', Value: 'jane@example.com' },
        { Name: 'sub', Value: JANE_SUB },
      ],
    });
    const who = await resolveSignIn('Jane@Example.com', POOL, 'eu-west-1');
    expect(who).toEqual({ ...userIdentity(JANE_SUB), resolvedAs: 'pool-user' });
    expect(cognito.commandCalls(AdminGetUserCommand)[0].args[0].input).toEqual({ UserPoolId: POOL, Username: 'Jane@Example.com' });
    expect(cognito.commandCalls(DescribeUserPoolCommand)).toHaveLength(0);
  });

  it('keys a name the pool does not know as typed in a case-sensitive pool', async () => {
    cognito.on(AdminGetUserCommand).rejects(notFound());
    cognito.on(DescribeUserPoolCommand, { UserPoolId: POOL }).resolves({ UserPool: { UsernameConfiguration: { CaseSensitive: true } } });
    await expect(resolveSignIn('Mallory', POOL, undefined)).resolves.toEqual({
      ...unknownNameIdentity('Mallory', { caseSensitive: true }),
      resolvedAs: 'unknown-to-pool',
      caseSensitive: true,
    });
  });

  it('lower-cases a name the pool does not know in a case-insensitive pool, and nothing more (no trim, no NFKC)', async () => {
    cognito.on(AdminGetUserCommand).rejects(notFound());
    cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { UsernameConfiguration: { CaseSensitive: false } } });
    const who = await resolveSignIn(' ＭＡＬＬＯＲＹ', POOL, undefined);
    expect(who.key).toBe(unknownNameIdentity(' ｍａｌｌｏｒｙ', { caseSensitive: true }).key);
    expect(who.key).not.toBe(unknownNameIdentity('mallory', { caseSensitive: true }).key);
    expect(who).toMatchObject({ resolvedAs: 'unknown-to-pool', caseSensitive: false });
  });

  it('treats a pool that does not say how it compares names as case-sensitive', async () => {
    cognito.on(AdminGetUserCommand).rejects(notFound());
    cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL } });
    await expect(resolveSignIn('Mallory', POOL, undefined)).resolves.toMatchObject({
      caseSensitive: true,
      ...unknownNameIdentity('Mallory', { caseSensitive: true }),
    });
  });

  it('refuses a name without the pool, saying what to pass, and asks Cognito nothing', async () => {
    const refusal = resolveSignIn('jane', undefined, undefined);
    await expect(refusal).rejects.toThrow(AdminError);
    await expect(refusal).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('cannot tell which user "jane" is without the user pool'),
    });
    await expect(refusal).rejects.toThrow('pass --user-pool-id ID, or --stack NAME');
    expect(cognito.calls()).toHaveLength(0);
  });

  it('names a user pool that does not exist', async () => {
    cognito.on(AdminGetUserCommand).rejects(new ResourceNotFoundException({ $metadata: {}, message: 'User pool eu-west-1_Nope does not exist.' }));
    await expect(resolveSignIn('jane', 'eu-west-1_Nope', 'eu-west-1')).rejects.toThrow(
      'user pool eu-west-1_Nope not found in eu-west-1: check --user-pool-id / --stack and --region',
    );
  });

  it('refuses a user Cognito returns without a sub rather than guess a key', async () => {
    cognito.on(AdminGetUserCommand).resolves({ Username: 'jane', UserAttributes: [{ Name: 'email', Value: 'jane@example.com' }] });
    await expect(resolveSignIn('jane', POOL, undefined)).rejects.toThrow('Cognito returned user "jane" without a sub attribute');
  });
});
