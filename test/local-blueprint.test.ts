/**
 * What the sandbox reads from the synthesized app to run the table's stream consumers: every event source mapping
 * on the table's stream (whatever its function is called), with its function's bundle and environment, its
 * filters and batch settings, as Lambda would apply them.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ANNOUNCER_FILTERS, NOTIFIER_FILTERS } from '../lambdas/outbox/outbox';
import { UnsupportedPatternError } from '../sandbox/stream-poller';
import { type SandboxBlueprint, appContext, localEnvironment, streamConsumersOf, synthesizeBlueprint } from '../sandbox/synthesized';

const root = path.join(__dirname, '..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function synthesize(context: Record<string, unknown>): SandboxBlueprint {
  const dir = mkdtempSync(path.join(tmpdir(), 'blueprint-'));
  dirs.push(dir);
  return synthesizeBlueprint(appContext(root, context), path.join(dir, 'cdk.out'));
}

describe('the synthesized app', () => {
  let plain: SandboxBlueprint;
  let notifying: SandboxBlueprint;
  beforeAll(() => {
    plain = synthesize({});
    notifying = synthesize({ notifyUserFrom: 'security@example.com' });
  }, 120_000);

  it('has the announcer on the table stream, with the outbox filters and the mapping settings of the template', () => {
    expect(plain.streamConsumers.map((c) => c.name)).toEqual(['Announcer']);
    const [announcer] = plain.streamConsumers;
    expect(announcer.mapping.filters).toEqual(ANNOUNCER_FILTERS);
    expect(announcer.mapping).toMatchObject({
      startingPosition: expect.stringMatching(/^(LATEST|TRIM_HORIZON)$/),
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
    });
    expect(announcer.mapping.batchSize).toBeGreaterThan(0);
    expect(announcer.mapping.maximumRetryAttempts).toBeGreaterThanOrEqual(0);
    expect(announcer.onFailure).toEqual(expect.any(String));
    expect(existsSync(path.join(announcer.bundleDir, `${announcer.handler.split('.')[0]}.js`))).toBe(true);
  });

  it('adds the notifier, on notice requests only, when notifyUserFrom is set', () => {
    expect(notifying.streamConsumers.map((c) => c.name).sort()).toEqual(['Announcer', 'NotifyUser']);
    const notifier = notifying.streamConsumers.find((c) => c.name === 'NotifyUser')!;
    expect(notifier.mapping.filters).toEqual(NOTIFIER_FILTERS);
    expect(notifier.environment.NOTIFY_FROM).toBe('security@example.com');
  });

  it("resolves the consumers' table and pool references to the local ones, and the triggers' with the table alone", () => {
    const refs = { [notifying.table.logicalId]: 'lockout', [notifying.pool.logicalId]: 'us-east-1_local' };
    for (const consumer of notifying.streamConsumers) {
      const env = localEnvironment(consumer.environment, refs);
      expect(env.LOCKOUT_TABLE_NAME).toBe('lockout');
      expect(env.LOCKOUT_USER_POOL_ID).toBe('us-east-1_local');
    }
    // Triggers invoke nothing by name any more: the table and the device token key's secret are all they refer to.
    const keySecret = notifying.deviceKeySecret!.logicalId;
    for (const trigger of Object.values(notifying.triggers)) {
      expect(() => localEnvironment(trigger.environment, { [notifying.table.logicalId]: 'lockout', [keySecret]: 'arn:local' })).not.toThrow();
    }
    expect(
      localEnvironment(notifying.triggers.PreAuthentication.environment, { [notifying.table.logicalId]: 'lockout', [keySecret]: 'arn:local' }),
    ).toMatchObject({
      LOCKOUT_DEVICE_KEY_SECRET: 'arn:local',
    });
    expect(notifying.triggers.PreSignUp.environment).not.toHaveProperty('LOCKOUT_DEVICE_KEY_SECRET');
    expect(() => localEnvironment({ X: { Ref: 'Elsewhere' } }, refs)).toThrow(/environment variable X is a CloudFormation expression/);
  });
});

describe('streamConsumersOf', () => {
  const fn = (id: string, extra: Record<string, unknown> = {}) => ({
    Type: 'AWS::Lambda::Function',
    Properties: { Handler: 'main.run', Timeout: 30, Environment: { Variables: { A: 'a' } }, ...extra },
    Metadata: { 'aws:asset:path': `asset.${id}`, 'aws:cdk:path': `Stack/Lockout/${id}/Resource` },
  });
  const mapping = (properties: Record<string, unknown>) => ({ Type: 'AWS::Lambda::EventSourceMapping', Properties: properties });
  const onTable = { 'Fn::GetAtt': ['Table', 'StreamArn'] };

  it('reads every mapping on the table stream generically, with Lambda defaults for what the template leaves out', () => {
    const consumers = streamConsumersOf(
      {
        Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
        Audit: fn('auditTrail'),
        Other: fn('other'),
        AuditMapping: mapping({ EventSourceArn: onTable, FunctionName: { Ref: 'Audit' }, StartingPosition: 'TRIM_HORIZON' }),
        QueueMapping: mapping({ EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, FunctionName: { Ref: 'Other' } }),
        DisabledMapping: mapping({ EventSourceArn: onTable, FunctionName: { Ref: 'Other' }, StartingPosition: 'LATEST', Enabled: false }),
        OtherMapping: mapping({
          EventSourceArn: onTable,
          FunctionName: { 'Fn::GetAtt': ['Other', 'Arn'] },
          StartingPosition: 'LATEST',
          BatchSize: 7,
          MaximumRetryAttempts: 4,
          MaximumRecordAgeInSeconds: 600,
          BisectBatchOnFunctionError: true,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
          DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Failures', 'Arn'] } } },
        }),
      },
      'Table',
      '/out',
    );
    expect(consumers).toEqual([
      {
        name: 'AuditTrail',
        logicalId: 'Audit',
        mappingId: 'AuditMapping',
        bundleDir: path.join('/out', 'asset.auditTrail'),
        handler: 'main.run',
        timeoutSeconds: 30,
        environment: { A: 'a' },
        mapping: {
          batchSize: 100,
          startingPosition: 'TRIM_HORIZON',
          maximumRetryAttempts: -1,
          maximumRecordAgeInSeconds: -1,
          bisectBatchOnFunctionError: false,
          reportBatchItemFailures: false,
          filters: [],
        },
      },
      {
        name: 'Other',
        logicalId: 'Other',
        mappingId: 'OtherMapping',
        bundleDir: path.join('/out', 'asset.other'),
        handler: 'main.run',
        timeoutSeconds: 30,
        environment: { A: 'a' },
        mapping: {
          batchSize: 7,
          startingPosition: 'LATEST',
          maximumRetryAttempts: 4,
          maximumRecordAgeInSeconds: 600,
          bisectBatchOnFunctionError: true,
          reportBatchItemFailures: true,
          filters: [{ eventName: ['INSERT'] }],
        },
        onFailure: 'Failures',
      },
    ]);
  });

  it('refuses a filter the local mapping cannot apply as Lambda does, and a mapping without a bundled function', () => {
    const resources = (properties: Record<string, unknown>) => ({
      Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      Fn: fn('fn'),
      Mapping: mapping({ EventSourceArn: onTable, FunctionName: { Ref: 'Fn' }, StartingPosition: 'LATEST', ...properties }),
    });
    expect(() =>
      streamConsumersOf(
        resources({ FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: [{ wildcard: 'IN*' }] }) }] } }),
        'Table',
        '/out',
      ),
    ).toThrow(UnsupportedPatternError);
    expect(() => streamConsumersOf(resources({ FunctionName: 'arn:aws:lambda:us-east-1:1:function:elsewhere' }), 'Table', '/out')).toThrow(
      /invokes no bundled function of the template/,
    );
    expect(() => streamConsumersOf(resources({ StartingPosition: 'AT_TIMESTAMP' }), 'Table', '/out')).toThrow(/StartingPosition "AT_TIMESTAMP"/);
  });
});
