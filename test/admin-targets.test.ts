import { CloudFormationClient, CloudFormationServiceException, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { TARGETS_OUTPUT_DESCRIPTION } from '../lambdas/engine/contract';
import { fromStack, parseDuration } from '../lib/admin/targets';

const cloudFormation = mockClient(CloudFormationClient);
beforeEach(() => cloudFormation.reset());

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
