import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, CfnParameter, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { CfnUserPool, CfnUserPoolClient, UserPool, UserPoolClient, UserPoolOperation } from 'aws-cdk-lib/aws-cognito';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TARGETS_OUTPUT_DESCRIPTION } from '../lambdas/shared/contract';
import { ANNOUNCER_FILTERS, NOTIFIER_FILTERS } from '../lambdas/outbox/outbox';
import { readAppConfig } from '../lib/app-config';
import { CognitoLockout, type CognitoLockoutProps, cdkLibAtLeast, checkCdkVersion } from '../lib/cognito-lockout';
import { LockoutMode, StoreErrorPolicy, SuccessSignal, UnlockOnPasswordReset } from '../lib/lockout-props';
import { PoolRisk } from '../lib/pool-checks';
import { CognitoLockoutStack, type CognitoLockoutStackProps } from '../lib/cognito-lockout-stack';

/** Synth without bundling: these tests read the template, not the code. */
const noBundling = () => new App({ context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-path-metadata': true } });

function stackTemplate(props: CognitoLockoutStackProps = {}): Template {
  return Template.fromStack(new CognitoLockoutStack(noBundling(), 'Test', props));
}

function ref(template: Template, type: string, pathSuffix: string): string {
  const found = Object.entries(template.findResources(type)).find(([, r]) => (r.Metadata?.['aws:cdk:path'] as string)?.endsWith(pathSuffix));
  if (!found) throw new Error(`no ${type} at ${pathSuffix}`);
  return found[0];
}

describe('CognitoLockoutStack template', () => {
  const template = stackTemplate();
  const table = ref(template, 'AWS::DynamoDB::Table', 'Lockout/Table/Resource');
  const fn = (name: string) => ref(template, 'AWS::Lambda::Function', `Lockout/${name}/Resource`);

  it('creates a user pool with device remembering off and case-insensitive sign-in', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      DeviceConfiguration: Match.absent(),
      UsernameConfiguration: { CaseSensitive: false },
      UsernameAttributes: ['email'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
          TemporaryPasswordValidityDays: 3,
        },
      },
      UserPoolTier: 'ESSENTIALS',
      DeletionProtection: 'ACTIVE',
    });
  });

  it('wires each trigger to its operation', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: {
        PreAuthentication: { 'Fn::GetAtt': [fn('preAuthentication'), 'Arn'] },
        PostAuthentication: { 'Fn::GetAtt': [fn('postAuthentication'), 'Arn'] },
        PreSignUp: { 'Fn::GetAtt': [fn('preSignUp'), 'Arn'] },
      },
    });
    for (const name of ['preAuthentication', 'postAuthentication', 'preSignUp']) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'cognito-idp.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [fn(name), 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UserPool'), 'Arn'] },
      });
    }
  });

  it('creates a public app client with SRP and password flows only, no existence errors, and no OAuth URL it was not given', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      AllowedOAuthFlowsUserPoolClient: false,
      CallbackURLs: Match.absent(),
      LogoutURLs: Match.absent(),
      SupportedIdentityProviders: ['COGNITO'],
    });
    expect(template.findOutputs('ManagedLoginUrl')).toEqual({});
    stackTemplate({ callbackUrls: ['https://app.example.com/'] }).hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: ['https://app.example.com/'],
      LogoutURLs: ['https://app.example.com/'],
    });
  });

  it('creates a Cognito prefix domain, by default from the stack id', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['', ['lockout-', Match.anyValue()]] },
    });
    stackTemplate({ domainPrefix: 'my-app-login' }).hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'my-app-login' });
  });

  it('creates an on-demand, encrypted table with TTL and point-in-time recovery, retained by default', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TableName: Match.absent(),
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('destroys table and logs only when asked', () => {
    const dev = stackTemplate({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false });
    dev.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    dev.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    dev.hasResourceProperties('AWS::Cognito::UserPool', { DeletionProtection: 'INACTIVE' });
  });

  it("runs ARM64 functions on a current Node.js runtime, under Cognito's 5 s limit, with their own log groups", () => {
    template.resourceCountIs('AWS::Lambda::Function', 6); // five triggers and the announcer
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      // Triggers answer Cognito within its 5 s; the stream's announcer answers no one waiting.
      Timeout: Match.anyValue(),
      FunctionName: Match.absent(),
      LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
      Environment: {
        Variables: Match.objectLike({
          LOCKOUT_TABLE_NAME: { Ref: table },
          LOCKOUT_MAX_FAILED_ATTEMPTS: '5',
          LOCKOUT_STORE_TIMEOUT_MS: '1500',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
    const timeouts = Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, r]) => [
      id.startsWith('Lockoutannouncer'),
      r.Properties.Timeout,
    ]);
    expect(timeouts.filter(([consumer]) => !consumer).every(([, timeout]) => timeout === 3)).toBe(true);
    expect(timeouts.filter(([consumer]) => consumer).map(([, timeout]) => timeout)).toEqual([120]);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, LogGroupName: Match.absent() });
    template.resourceCountIs('AWS::Logs::LogGroup', 6);
  });

  it('gives each trigger exactly its own writes on its own keys of its own table, and nothing else: no side-call right', () => {
    const expected: Record<string, [string[], string[]]> = {
      preAuthentication: [['dynamodb:UpdateItem', 'dynamodb:PutItem'], ['signin#*']],
      // UpdateItem only: a success zeroes its item (keeping the accounting's stamp) and marks an uncounted sign-in.
      postAuthentication: [['dynamodb:UpdateItem'], ['signin#*']],
      postConfirmation: [['dynamodb:UpdateItem'], ['signin#*']],
      // GetItem: the device-bucket tidy-up's read (store.ts pruneDevices).
      preTokenGeneration: [['dynamodb:UpdateItem', 'dynamodb:GetItem'], ['signin#*']],
      preSignUp: [
        ['dynamodb:UpdateItem', 'dynamodb:PutItem'],
        ['signup-username#*', 'signup-email#*', 'signup-phone#*', 'signup-email-domain#*', 'signup-phone-prefix#*'],
      ],
    };
    const policies = template.findResources('AWS::IAM::Policy');
    expect(Object.keys(policies)).toHaveLength(6); // the five triggers and the announcer
    template.resourceCountIs('AWS::IAM::Role', 6);
    template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    // Only the functions that check or sign device tokens may read the key, and only its one secret.
    const secret = ref(template, 'AWS::SecretsManager::Secret', 'Lockout/DeviceTokenKey/Resource');
    const readsKey = new Set(['preAuthentication', 'postAuthentication', 'preTokenGeneration']);
    for (const [name, [actions, keys]] of Object.entries(expected)) {
      const role = ref(template, 'AWS::IAM::Role', `Lockout/${name}Role/Resource`);
      const logs = ref(template, 'AWS::Logs::LogGroup', `Lockout/${name}Logs/Resource`);
      const policy = Object.values(policies).find((p) => p.Properties.Roles[0].Ref === role)!;
      const keyRead = readsKey.has(name) ? [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secret } }] : [];
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logs, 'Arn'] } },
        {
          Effect: 'Allow',
          // CloudFormation output collapses a one-element list to its element.
          Action: actions.length === 1 ? actions[0] : actions,
          Resource: { 'Fn::GetAtt': [table, 'Arn'] },
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } },
        },
        ...keyRead,
      ]);
    }
  });

  it('reads lock starts and lifts from the table stream: the announcer, filtered, retried, with a failure queue', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
    const announcer = ref(template, 'AWS::Lambda::Function', 'Lockout/announcer/Resource');
    const queue = ref(template, 'AWS::SQS::Queue', 'Lockout/StreamFailures/Resource');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: announcer },
      EventSourceArn: { 'Fn::GetAtt': [table, 'StreamArn'] },
      StartingPosition: 'LATEST',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 50,
      MaximumRecordAgeInSeconds: 86400,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      FilterCriteria: { Filters: ANNOUNCER_FILTERS.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
    });
    const role = ref(template, 'AWS::IAM::Role', 'Lockout/announcerRole/Resource');
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref === role)!;
    const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    // Without a notifier it requests no notices: no table right at all (test/iam.dynamodb-local.test.ts checks its use).
    expect(statements.filter((s) => String(s.Action).startsWith('dynamodb:') && s.Action !== 'dynamodb:ListStreams')).toEqual([
      expect.objectContaining({ Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] }),
    ]);
    // Lambda needs only SendMessage to put a failed batch's record on the queue.
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queue, 'Arn'] } });
    expect(statements).toEqual(
      expect.arrayContaining([
        // Its own source only: the role cannot put events in anyone else's name.
        expect.objectContaining({ Action: 'events:PutEvents', Condition: { StringEquals: { 'events:source': 'cognito-lockout' } } }),
        expect.objectContaining({ Action: 'dynamodb:ListStreams' }),
        expect.objectContaining({ Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'] }),
      ]),
    );
    for (const alarm of ['StreamFailures', 'AnnouncerErrors']) {
      expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).some((id) => id.includes(alarm))).toBe(true);
    }
  });

  it('outputs what a front end and an operator need', () => {
    const withLogin = stackTemplate({ callbackUrls: ['https://app.example.com/'] });
    for (const name of ['UserPoolId', 'UserPoolClientId', 'Region', 'DomainUrl', 'ManagedLoginUrl', 'LockoutTableName', 'AmplifyConfig']) {
      withLogin.hasOutput(name, { Value: Match.anyValue() });
    }
    const amplify = JSON.stringify(withLogin.findOutputs('AmplifyConfig'));
    for (const field of ['"Auth', 'Cognito', 'userPoolId', 'userPoolClientId', 'loginWith', 'redirectSignIn', 'responseType', 'code']) {
      expect(amplify).toContain(field);
    }
  });

  it('has no circular dependency between the pool and its triggers', () => {
    // Template.fromStack would throw on a cycle; also check no function refers to the pool.
    // The announcer names the pool in its events; it is no trigger, so the pool does not depend on it.
    const functions = JSON.stringify(
      Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => !id.startsWith('Lockoutannouncer')),
    );
    const pool = ref(template, 'AWS::Cognito::UserPool', 'UserPool/Resource');
    expect(functions).not.toContain(pool);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain(pool);
  });
});

describe('CognitoLockout construct', () => {
  function construct(props: Partial<CognitoLockoutProps> = {}, pool?: (stack: Stack) => CognitoLockoutProps['userPool']) {
    const stack = new Stack(noBundling(), 'Host');
    const userPool = pool?.(stack) ?? new UserPool(stack, 'Pool');
    const lockout = new CognitoLockout(stack, 'Lockout', { userPool, ...props });
    return { lockout, template: Template.fromStack(stack) };
  }

  it("turns Duration props into the functions' environment", () => {
    const { template } = construct({
      maxFailedAttempts: 3,
      lockoutDuration: Duration.hours(1),
      failureWindow: Duration.minutes(30),
      maxLockoutDuration: Duration.days(2),
      mode: LockoutMode.MONITOR,
      storeErrorPolicy: StoreErrorPolicy.DENY,
      storeTimeout: Duration.millis(800),
      signUpMaxPerEmailDomain: 100,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          LOCKOUT_MAX_FAILED_ATTEMPTS: '3',
          LOCKOUT_DURATION_SECONDS: '3600',
          LOCKOUT_FAILURE_WINDOW_SECONDS: '1800',
          LOCKOUT_MAX_DURATION_SECONDS: '172800',
          LOCKOUT_MODE: 'monitor',
          LOCKOUT_STORE_ERROR_POLICY: 'deny',
          LOCKOUT_STORE_TIMEOUT_MS: '800',
          SIGNUP_MAX_PER_EMAIL_DOMAIN: '100',
        }),
      },
    });
  });

  it('exposes the table and functions', () => {
    const { lockout } = construct();
    expect(lockout.table).toBeDefined();
    expect(lockout.preAuthenticationFunction).toBeDefined();
    expect(lockout.postAuthenticationFunction).toBeDefined();
    expect(lockout.preSignUpFunction).toBeDefined();
  });

  it('omits the pre-signup trigger when sign-up limits are off', () => {
    const { lockout, template } = construct({ signUpLimits: false });
    expect(lockout.preSignUpFunction).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::Function', 5); // four triggers and the announcer
    template.hasResourceProperties('AWS::Cognito::UserPool', { LambdaConfig: Match.objectLike({ PreSignUp: Match.absent() }) });
  });

  it('grants an imported pool permission to invoke the triggers, warns that they are not attached, and outputs their ARNs', () => {
    const { lockout, template } = construct({ signInCaseSensitive: false }, (stack) =>
      UserPool.fromUserPoolId(stack, 'Imported', 'eu-west-1_AbCdEfGhI'),
    );
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 'cognito-idp.amazonaws.com', SourceArn: Match.anyValue() }, 5);
    for (const name of ['PreAuthentication', 'PostAuthentication', 'PreSignUp', 'PostConfirmation', 'PreTokenGeneration']) {
      expect(Object.keys(template.findOutputs('*')).some((id) => id.includes(`${name}FunctionArn`))).toBe(true);
    }
    const warnings = Annotations.fromStack(Stack.of(lockout)).findWarning('*', Match.stringLikeRegexp('the lockout is NOT attached'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toContain(
      'PreAuthenticationFunctionArn, PostAuthenticationFunctionArn, PreSignUpFunctionArn, PostConfirmationFunctionArn, PreTokenGenerationFunctionArn',
    );
  });

  it('with notifyUser, adds a notifier reading notice requests from the stream: SES as that address only, the pool read, nobody invokes it', () => {
    const { lockout, template } = construct({
      signInCaseSensitive: undefined,
      notifyUser: {
        fromEmail: 'security@example.com',
        text: 'Locked until {until}. {reset}',
        perRecipientPeriod: Duration.hours(12),
        maxPerHour: 50,
      },
    });
    const notifier = ref(template, 'AWS::Lambda::Function', 'Lockout/notifyUser/Resource');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          NOTIFY_FROM: 'security@example.com',
          NOTIFY_TEXT: 'Locked until {until}. {reset}',
          NOTIFY_RECIPIENT_PERIOD_SECONDS: '43200',
          NOTIFY_MAX_PER_HOUR: '50',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: notifier },
      FilterCriteria: { Filters: NOTIFIER_FILTERS.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
    });
    const role = ref(template, 'AWS::IAM::Role', 'Lockout/notifyUserRole/Resource');
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref === role)!;
    expect(policy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: 'ses:SendEmail',
          Condition: { StringEquals: { 'ses:FromAddress': 'security@example.com' } },
        }),
        expect.objectContaining({
          Action: 'cognito-idp:ListUsers',
          Resource: { 'Fn::GetAtt': [ref(template, 'AWS::Cognito::UserPool', 'Pool/Resource'), 'Arn'] },
        }),
        expect.objectContaining({
          Action: 'dynamodb:UpdateItem',
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['notice#*', 'notice-recipient#*', 'notice-hour#*'] } },
        }),
      ]),
    );
    // With a notifier, the announcer may write notice requests: its one table right, on notice keys only.
    const announcerRole = ref(template, 'AWS::IAM::Role', 'Lockout/announcerRole/Resource');
    const announcerPolicy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref === announcerRole)!;
    expect(announcerPolicy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Action: 'dynamodb:PutItem', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['notice#*'] } } }),
    );
    // Nothing may invoke it but its event source mapping (which uses the function's own role): no resource policy.
    expect(Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) => JSON.stringify(p).includes(notifier))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('LOCKOUT_NOTIFY_FUNCTION');
    for (const alarm of ['NoticesCapped', 'NoticeErrors', 'NotifyUserErrors']) {
      expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).some((id) => id.includes(alarm))).toBe(true);
    }
    expect(lockout.notifyUserFunction).toBeDefined();
    expect(construct().lockout.notifyUserFunction).toBeUndefined();
  });

  it.each([
    [{ fromEmail: 'security' }, 'CognitoLockout: notifyUser.fromEmail must be an email address verified in Amazon SES, got "security"'],
    [
      { fromEmail: 'a@b.co', subject: 'two\nlines' },
      'CognitoLockout: notifyUser.subject must be one line of at most 200 characters, got "two\\nlines"',
    ],
    [
      { fromEmail: 'a@b.co', text: 'Until {when}.' },
      'CognitoLockout: notifyUser.text contains {when}, but the only placeholders are {until} and {reset}',
    ],
    [
      { fromEmail: 'a@b.co', perRecipientPeriod: Duration.seconds(5) },
      'CognitoLockout: notifyUser.perRecipientPeriod must be from 1 minute to 365 days, got 5 s',
    ],
    [{ fromEmail: 'a@b.co', maxPerHour: 0 }, 'CognitoLockout: notifyUser.maxPerHour must be a whole number from 1 to 1000000, got 0'],
  ])('fails at synth on notifyUser %p, naming the prop', (notifyUser, message) => {
    expect(() => construct({ notifyUser })).toThrow(message);
  });

  it('records the table, pool and event bus for the admin CLI in an output it finds by description', () => {
    const { template } = construct();
    const outputs = Object.values(template.findOutputs('*', { Description: TARGETS_OUTPUT_DESCRIPTION }));
    expect(outputs).toHaveLength(1);
    const value = JSON.stringify(outputs[0].Value);
    for (const part of ['table', 'userPoolId', 'eventBus', 'LockoutTable']) expect(value).toContain(part);
    const off = construct({ lockoutEvents: false }).template.findOutputs('*', { Description: TARGETS_OUTPUT_DESCRIPTION });
    expect(JSON.stringify(Object.values(off)[0].Value)).toContain('\\"eventBus\\":null');
  });

  it('names the conflicting trigger and the ownFunctions option when the pool already has one', () => {
    const stack = new Stack(noBundling(), 'Taken');
    const pool = new UserPool(stack, 'Pool');
    pool.addTrigger(
      UserPoolOperation.POST_AUTHENTICATION,
      new LambdaFunction(stack, 'Audit', {
        runtime: Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: Code.fromInline('exports.handler = async (e) => e;'),
      }),
    );
    expect(() => new CognitoLockout(stack, 'Lockout', { userPool: pool })).toThrow(
      "CognitoLockout: the user pool already has a PostAuthentication trigger. Run the lockout inside it: call postAuthenticationHandler() from 'cognito-lockout/triggers' in that function's handler and pass the function as ownFunctions.postAuthentication (docs/configuration.md: \"Pools that already have triggers\").",
    );
  });

  it('gives a function the user owns the table, its key prefixes and the environment, and wires nothing for it', () => {
    const stack = new Stack(noBundling(), 'Own');
    const pool = new UserPool(stack, 'Pool');
    const mine = new LambdaFunction(stack, 'MyPreAuth', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async (e) => e;'),
    });
    pool.addTrigger(UserPoolOperation.PRE_AUTHENTICATION, mine);
    const lockout = new CognitoLockout(stack, 'Lockout', { userPool: pool, maxFailedAttempts: 3, ownFunctions: { preAuthentication: mine } });
    const template = Template.fromStack(stack);
    expect(lockout.preAuthenticationFunction).toBe(mine);
    template.resourceCountIs('AWS::Lambda::Function', 6); // mine, the construct's four other triggers and its announcer
    const myId = ref(template, 'AWS::Lambda::Function', 'MyPreAuth/Resource');
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: Match.objectLike({ PreAuthentication: { 'Fn::GetAtt': [myId, 'Arn'] } }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({ LOCKOUT_MAX_FAILED_ATTEMPTS: '3', LOCKOUT_TABLE_NAME: Match.anyValue(), LOCKOUT_EVENT_BUS: Match.absent() }),
      },
      Code: { ZipFile: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('MyPreAuthServiceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['dynamodb:UpdateItem', 'dynamodb:PutItem'],
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['signin#*'] } },
          }),
        ]),
      },
    });
  });

  it.each([
    ['2.160.0', 'CognitoLockout requires aws-cdk-lib 2.252.0 or later, but this app loads 2.160.0: npm install aws-cdk-lib@^2.252.0'],
    ['2.251.9', 'CognitoLockout requires aws-cdk-lib 2.252.0 or later, but this app loads 2.251.9: npm install aws-cdk-lib@^2.252.0'],
    ['1.204.0', 'CognitoLockout requires aws-cdk-lib 2.252.0 or later, but this app loads 1.204.0: npm install aws-cdk-lib@^2.252.0'],
  ])('refuses aws-cdk-lib %s at synth, naming the version needed', (version, message) => {
    expect(() => checkCdkVersion(version)).toThrow(message);
  });

  it('compares aws-cdk-lib versions by number, not text', () => {
    expect(cdkLibAtLeast('2.270.0', '2.270.0')).toBe(true);
    expect(cdkLibAtLeast('2.269.9', '2.270.0')).toBe(false);
    expect(cdkLibAtLeast('2.1000.0', '2.270.0')).toBe(true);
    expect(cdkLibAtLeast('3.0.0-rc.1', '2.270.0')).toBe(true);
  });

  it.each(['2.252.0', '2.276.1', '2.300.0', '3.0.0'])('accepts aws-cdk-lib %s', (version) => {
    expect(() => checkCdkVersion(version)).not.toThrow();
  });

  it('passes unresolved tokens through without validating them', () => {
    const stack = new Stack(noBundling(), 'Tokens');
    const attempts = new CfnParameter(stack, 'Attempts', { type: 'Number' });
    new CognitoLockout(stack, 'Lockout', { userPool: new UserPool(stack, 'Pool'), maxFailedAttempts: attempts.valueAsNumber });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LOCKOUT_MAX_FAILED_ATTEMPTS: { Ref: 'Attempts' } }) },
    });
  });

  it.each<[string, Partial<CognitoLockoutProps>, string]>([
    ['zero attempts', { maxFailedAttempts: 0 }, 'CognitoLockout: maxFailedAttempts must be a whole number from 1 to 1000, got 0'],
    ['negative attempts', { maxFailedAttempts: -3 }, 'CognitoLockout: maxFailedAttempts must be a whole number from 1 to 1000, got -3'],
    ['fractional attempts', { maxFailedAttempts: 2.5 }, 'CognitoLockout: maxFailedAttempts must be a whole number from 1 to 1000, got 2.5'],
    [
      'a zero window',
      { failureWindow: Duration.seconds(0) },
      'CognitoLockout: failureWindow (in whole seconds) must be a whole number from 1 to 31536000, got 0',
    ],
    [
      'a sub-second lockout',
      { lockoutDuration: Duration.millis(1500) },
      'CognitoLockout: lockoutDuration (in whole seconds) must be a whole number of seconds, got 1 second 500 millis',
    ],
    [
      'a lockout longer than the maximum',
      { lockoutDuration: Duration.hours(2), maxLockoutDuration: Duration.hours(1) },
      'CognitoLockout: lockoutDuration (7200) must not exceed CognitoLockout: maxLockoutDuration (3600)',
    ],
    ['an unknown mode', { mode: 'audit' as never }, 'CognitoLockout: mode must be one of LockoutMode.ENFORCE, LockoutMode.MONITOR, got "audit"'],
    [
      'an unknown store-error policy',
      { storeErrorPolicy: 'open' as never },
      'CognitoLockout: storeErrorPolicy must be one of StoreErrorPolicy.LOCAL, StoreErrorPolicy.ALLOW, StoreErrorPolicy.DENY, got "open"',
    ],
    ['a backoff below 1', { lockoutBackoffMultiplier: 0.5 }, 'CognitoLockout: lockoutBackoffMultiplier must be a number from 1 to 100, got 0.5'],
    [
      'negative permanent threshold',
      { maxTemporaryLockouts: -1 },
      'CognitoLockout: maxTemporaryLockouts must be a whole number from 0 to 1000, got -1',
    ],
    [
      'an empty message',
      { refusalMessage: ' ' },
      'CognitoLockout: refusalMessage must be non-empty text of at most 200 characters without control characters, got " "',
    ],
    [
      "a store budget beyond Cognito's limit",
      { storeTimeout: Duration.seconds(4) },
      'CognitoLockout: storeTimeout (in milliseconds) must be a whole number from 100 to 2500, got 4000',
    ],
    ['zero sign-ups', { signUpMaxAttempts: 0 }, 'CognitoLockout: signUpMaxAttempts must be a whole number from 1 to 100000, got 0'],
    [
      'a zero sign-up window',
      { signUpWindow: Duration.seconds(0) },
      'CognitoLockout: signUpWindow (in whole seconds) must be a whole number from 1 to 31536000, got 0',
    ],
    [
      'an unknown log level',
      { logLevel: 'TRACE' as never },
      'CognitoLockout: logLevel must be one of LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR, got "TRACE"',
    ],
    [
      "a store budget that, after the device key's first wait, leaves a trigger no room in its timeout",
      { storeTimeout: Duration.millis(2100) },
      "CognitoLockout: storeTimeout (2100 ms) does not fit the PreAuthentication function's 3000 ms timeout: the device key's first wait (500 ms), " +
        "1 × storeTimeout (2100 ms), 500 ms for the function's own work come to 3100 ms. Set storeTimeout to at most 2000 ms.",
    ],
    [
      'too few devices apart per window',
      { deviceBucketsPerWindow: 0 },
      'CognitoLockout: deviceBucketsPerWindow must be a whole number from 1 to 20, got 0',
    ],
  ])('fails at synth on %s, naming the prop', (_, props, message) => {
    expect(() => construct(props)).toThrow(message);
  });

  it("fits the longest store budget when no function reads the device key, and checks the user's own function's timeout", () => {
    expect(() => construct({ storeTimeout: Duration.millis(2500), deviceTokens: false })).not.toThrow();
    expect(() => construct({ storeTimeout: Duration.millis(2000) })).not.toThrow();
    const stack = new Stack(noBundling(), 'OwnShort');
    const pool = new UserPool(stack, 'Pool');
    const mine = new LambdaFunction(stack, 'MyPreAuth', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async (e) => e;'),
      timeout: Duration.seconds(2),
    });
    pool.addTrigger(UserPoolOperation.PRE_AUTHENTICATION, mine);
    expect(() => new CognitoLockout(stack, 'Lockout', { userPool: pool, ownFunctions: { preAuthentication: mine } })).toThrow(
      "CognitoLockout: storeTimeout (1500 ms) does not fit the PreAuthentication function's 2000 ms timeout: the device key's first wait (500 ms), " +
        "1 × storeTimeout (1500 ms), 500 ms for the function's own work come to 2500 ms. Set storeTimeout to at most 1000 ms, or give your " +
        'function a longer timeout (Cognito waits 5 s in all).',
    );
  });
});

describe('alarms, dashboard and lockout events', () => {
  function construct(props: Partial<CognitoLockoutProps> = {}) {
    const stack = new Stack(noBundling(), 'Host');
    const lockout = new CognitoLockout(stack, 'Lockout', { userPool: new UserPool(stack, 'Pool'), ...props });
    return { stack, lockout, template: Template.fromStack(stack) };
  }
  const lockoutDimensions = (trigger: string) =>
    Match.arrayWith([
      { Name: 'service', Value: 'cognito-lockout' },
      { Name: 'trigger', Value: trigger },
    ]);

  it('alarms on credential stuffing: lockouts started per 5 minutes over the threshold', () => {
    construct({ monitoringOptions: { lockoutsPerFiveMinutes: 50 } }).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          MetricStat: {
            Metric: { Namespace: 'CognitoLockout', MetricName: 'LockoutsStarted', Dimensions: lockoutDimensions('PreAuthentication') },
            Period: 300,
            Stat: 'Sum',
          },
        }),
      ],
      Threshold: 50,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on any store error, summed over the triggers', () => {
    construct().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(s0, 0) + FILL(s1, 0) + FILL(s2, 0) + FILL(s3, 0) + FILL(s4, 0)' }),
        Match.objectLike({
          Id: 's0',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'StoreErrors', Dimensions: lockoutDimensions('PreAuthentication') }),
          }),
        }),
      ]),
    });
  });

  it.each([
    ['an instance opening its store circuit', 'StoreCircuitOpened', 'c'],
    ['a bug or configuration error answered with the generic message', 'InternalErrors', 'i'],
  ])('alarms on %s, summed over the triggers', (_, metricName, id) => {
    construct().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: `FILL(${id}0, 0) + FILL(${id}1, 0) + FILL(${id}2, 0) + FILL(${id}3, 0) + FILL(${id}4, 0)` }),
        Match.objectLike({
          Id: `${id}2`,
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: metricName, Dimensions: lockoutDimensions('PreSignUp') }) }),
        }),
      ]),
    });
  });

  it('alarms when an instance record is full during an outage, summed over the functions that keep one', () => {
    construct().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(r0, 0) + FILL(r1, 0)' }),
        Match.objectLike({
          Id: 'r0',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'InstanceRecordFull', Dimensions: lockoutDimensions('PreAuthentication') }),
          }),
        }),
        Match.objectLike({
          Id: 'r1',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'InstanceRecordFull', Dimensions: lockoutDimensions('PreSignUp') }),
          }),
        }),
      ]),
    });
  });

  it('alarms on device token key errors, summed over the functions that read the key, only with device tokens on', () => {
    const keyAlarm = {
      Threshold: 0,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(k0, 0) + FILL(k1, 0) + FILL(k2, 0)' }),
        ...['PreAuthentication', 'PostAuthentication', 'PreTokenGeneration'].map((trigger, i) =>
          Match.objectLike({
            Id: `k${i}`,
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'DeviceKeyErrors', Dimensions: lockoutDimensions(trigger) }) }),
          }),
        ),
      ]),
    };
    const on = construct();
    on.template.hasResourceProperties('AWS::CloudWatch::Alarm', keyAlarm);
    expect(on.lockout.monitoring?.deviceKeyErrorsAlarm).toBeDefined();
    const off = construct({ deviceTokens: false });
    expect(JSON.stringify(off.template.findResources('AWS::CloudWatch::Alarm'))).not.toContain('DeviceKeyErrors');
    expect(off.lockout.monitoring?.deviceKeyErrorsAlarm).toBeUndefined();
  });

  it('alarms on trigger failures other than refusals, and on slow triggers', () => {
    const { template } = construct();
    for (const trigger of ['PreAuthentication', 'PreSignUp']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Threshold: 0,
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'errors - FILL(refused, 0)' }),
          Match.objectLike({
            Id: 'errors',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/Lambda', MetricName: 'Errors' }) }),
          }),
          Match.objectLike({
            Id: 'refused',
            MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'AttemptsRefused', Dimensions: lockoutDimensions(trigger) }) }),
          }),
        ]),
      });
    }
    // Post-authentication, post-confirmation and pre token generation never refuse: any error is unexpected; so do
    // the announcer's (a batch it failed).
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Threshold: 0 },
      4,
    );
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { Namespace: 'AWS/Lambda', MetricName: 'Duration', Statistic: 'Maximum', Threshold: 2500, Period: 300 },
      5,
    );
    // And the stream's failure queue, a full instance record, device key errors, uncounted sign-ins.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 19);
  });

  it('notifies an SNS topic of every alarm when one is given', () => {
    const stack = new Stack(noBundling(), 'WithTopic');
    const topic = new Topic(stack, 'Alerts');
    new CognitoLockout(stack, 'Lockout', { userPool: new UserPool(stack, 'Pool'), monitoringOptions: { alarmTopic: topic } });
    const template = Template.fromStack(stack);
    const topicRef = { Ref: ref(template, 'AWS::SNS::Topic', 'Alerts/Resource') };
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmActions: [topicRef], OKActions: [topicRef] }, 19);
  });

  it('creates a dashboard of attempts, refusals, lockouts, store errors and latency', () => {
    const { template } = construct();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const text of ['AttemptsCounted', 'AttemptsRefused', 'LockoutsStarted', 'WouldRefuse', 'StoreErrors', 'Duration', 'Lockout alarms'])
      expect(body).toContain(text);
  });

  it('creates no alarms or dashboard when monitoring is off', () => {
    const { template, lockout } = construct({ monitoring: false });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(lockout.monitoring).toBeUndefined();
  });

  it('tells only the announcer which bus to use: no trigger sends events', () => {
    const { template } = construct();
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      { Environment: { Variables: Match.objectLike({ LOCKOUT_EVENT_BUS: 'default' }) } },
      1,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LOCKOUT_EVENT_BUS: 'default', LOCKOUT_NOTICES: 'off' }) },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('announcer') } },
    });
  });

  it.each([
    [SuccessSignal.BOTH, true, ['PostAuthentication', 'PreTokenGeneration'], []],
    [SuccessSignal.PRE_TOKEN_GENERATION, true, ['PreTokenGeneration'], ['PostAuthentication']],
    // Pre token generation also issues device tokens: it stays unless they are off too.
    [SuccessSignal.POST_AUTHENTICATION, true, ['PostAuthentication', 'PreTokenGeneration'], []],
    [SuccessSignal.POST_AUTHENTICATION, false, ['PostAuthentication'], ['PreTokenGeneration']],
  ] as const)('wires the success signal %s with device tokens %s', (successSignal, deviceTokens, wired, absent) => {
    const { template } = construct({ successSignal, deviceTokens });
    const config = Object.values(template.findResources('AWS::Cognito::UserPool'))[0].Properties.LambdaConfig as Record<string, unknown>;
    for (const name of wired) expect(config[name]).toBeDefined();
    for (const name of absent) expect(config[name]).toBeUndefined();
  });

  it('creates the device token key only with device tokens on, generated, never in the template, and tells only its readers', () => {
    const { template } = construct();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { SecretStringTemplate: '{}', GenerateStringKey: 'key', PasswordLength: 64, ExcludePunctuation: true },
      SecretString: Match.absent(),
    });
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    const told = functions
      .filter(([, f]) => f.Properties.Environment?.Variables?.LOCKOUT_DEVICE_KEY_SECRET !== undefined)
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(told.sort()).toEqual(['LockoutpostAuthentication', 'LockoutpreAuthentication', 'LockoutpreTokenGeneration']);
    const off = construct({ deviceTokens: false });
    off.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(off.template.toJSON())).not.toMatch(/secretsmanager|LOCKOUT_DEVICE_KEY_SECRET/);
    expect(off.lockout.deviceKeySecret).toBeUndefined();
  });

  it('names successSignal and ownFunctions when the pool already has a pre token generation trigger', () => {
    const stack = new Stack(noBundling(), 'Claims');
    const pool = new UserPool(stack, 'Pool');
    const claims = new LambdaFunction(stack, 'Claims', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async (e) => e;'),
    });
    pool.addTrigger(UserPoolOperation.PRE_TOKEN_GENERATION, claims);
    expect(() => new CognitoLockout(stack, 'Lockout', { userPool: pool })).toThrow(
      /PreTokenGeneration trigger.*ownFunctions\.preTokenGeneration \(or set successSignal to SuccessSignal\.POST_AUTHENTICATION and deviceTokens to false\)/,
    );
    // The first attempt attached some triggers before failing: a fresh pool with the same claims function.
    const fresh = new Stack(noBundling(), 'Claims2');
    const pool2 = new UserPool(fresh, 'Pool');
    pool2.addTrigger(
      UserPoolOperation.PRE_TOKEN_GENERATION,
      new LambdaFunction(fresh, 'Claims', {
        runtime: Runtime.NODEJS_24_X,
        handler: 'index.handler',
        code: Code.fromInline('exports.handler = async (e) => e;'),
      }),
    );
    expect(
      () => new CognitoLockout(fresh, 'Lockout', { userPool: pool2, successSignal: SuccessSignal.POST_AUTHENTICATION, deviceTokens: false }),
    ).not.toThrow();
  });

  it('wires the post-confirmation trigger that lifts a lock after a password reset, unless it is off', () => {
    construct().template.hasResourceProperties('AWS::Cognito::UserPool', { LambdaConfig: Match.objectLike({ PostConfirmation: Match.anyValue() }) });
    const off = construct({ unlockOnPasswordReset: UnlockOnPasswordReset.OFF });
    expect(off.lockout.postConfirmationFunction).toBeUndefined();
    off.template.hasResourceProperties('AWS::Cognito::UserPool', { LambdaConfig: Match.objectLike({ PostConfirmation: Match.absent() }) });
    construct({ unlockOnPasswordReset: UnlockOnPasswordReset.ALL }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LOCKOUT_UNLOCK_ON_PASSWORD_RESET: 'all' }) },
    });
  });

  it('uses a given bus, or none when events are off', () => {
    const stack = new Stack(noBundling(), 'Bus');
    const bus = new EventBus(stack, 'Security');
    new CognitoLockout(stack, 'Lockout', { userPool: new UserPool(stack, 'Pool'), lockoutEventBus: bus });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'events:PutEvents',
            Resource: { 'Fn::GetAtt': [ref(template, 'AWS::Events::EventBus', 'Security/Resource'), 'Arn'] },
            Condition: { StringEquals: { 'events:source': 'cognito-lockout' } },
          },
        ]),
      },
    });
    const off = construct({ lockoutEvents: false });
    expect(JSON.stringify(off.template.toJSON())).not.toMatch(/events:PutEvents|LOCKOUT_EVENT_BUS/);
    // With neither events nor notices there is nothing to announce: no announcer, no stream consumer.
    expect(off.lockout.announcerFunction).toBeUndefined();
    off.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  it.each<[string, Partial<CognitoLockoutProps>, string]>([
    [
      'a negative lockout threshold',
      { monitoringOptions: { lockoutsPerFiveMinutes: -1 } },
      'CognitoLockout: monitoringOptions.lockoutsPerFiveMinutes must be a whole number of 0 or more, got -1',
    ],
    [
      "a duration threshold past Cognito's limit",
      { monitoringOptions: { durationThreshold: Duration.seconds(6) } },
      "CognitoLockout: monitoringOptions.durationThreshold must be above 0 and under Cognito's 5 s limit, got 6000 ms",
    ],
    ['device tokens neither on nor off', { deviceTokens: 'on' as never }, 'CognitoLockout: deviceTokens must be true or false, got "on"'],
    [
      'monitoring options with monitoring off',
      { monitoring: false, monitoringOptions: {} },
      'CognitoLockout: monitoringOptions is set but monitoring is false: remove one of them',
    ],
    ['a negative device N', { deviceMaxFailedAttempts: -1 }, 'CognitoLockout: deviceMaxFailedAttempts must be a whole number from 0 to 1000, got -1'],
    [
      'a token lifetime in hours',
      { deviceTokenLifetime: Duration.hours(36) },
      'CognitoLockout: deviceTokenLifetime (in whole days) must be a whole number of days, got 1 day 12 hours',
    ],
    [
      'a token lifetime past 400 days',
      { deviceTokenLifetime: Duration.days(500) },
      'CognitoLockout: deviceTokenLifetime (in whole days) must be a whole number from 1 to 400, got 500',
    ],
    ['a claim Cognito sets', { deviceTokenClaim: 'email' }, 'CognitoLockout: deviceTokenClaim must not be a claim Cognito sets ("email")'],
    [
      'a claim name with a colon',
      { deviceTokenClaim: 'custom:device' },
      'CognitoLockout: deviceTokenClaim must be a lower-case claim name (a-z, 0-9, _; starting with a letter), got "custom:device"',
    ],
  ])('fails at synth on %s', (_, props, message) => {
    expect(() => construct(props)).toThrow(message);
  });
});

describe('CognitoLockoutStack props', () => {
  it.each<[string, CognitoLockoutStackProps, string]>([
    [
      'an upper-case domain prefix',
      { domainPrefix: 'MyApp' },
      'domainPrefix must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen, got "MyApp"',
    ],
    [
      'a trailing hyphen',
      { domainPrefix: 'my-app-' },
      'domainPrefix must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen, got "my-app-"',
    ],
    [
      'a 64-character prefix',
      { domainPrefix: 'a'.repeat(64) },
      `domainPrefix must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen, got "${'a'.repeat(64)}"`,
    ],
    ['a reserved word', { domainPrefix: 'my-cognito-login' }, 'domainPrefix must not contain the reserved word "cognito", got "my-cognito-login"'],
    [
      'an http callback',
      { callbackUrls: ['http://app.example.com/'] },
      'callbackUrls must use https (http is allowed only for localhost), got "http://app.example.com/"',
    ],
    ['a relative logout URL', { logoutUrls: ['/signed-out'] }, 'logoutUrls must contain absolute URLs, got "/signed-out"'],
    ['no callback URL', { callbackUrls: [] }, 'callbackUrls must list at least one URL'],
  ])('fails at synth on %s', (_, props, message) => {
    expect(() => new CognitoLockoutStack(noBundling(), 'Bad', props)).toThrow(message);
  });
});

describe('app configuration from context', () => {
  const read = (context: Record<string, unknown>) => readAppConfig(new App({ context }).node);

  it('parses command-line strings like props', () => {
    const config = read({
      maxFailedAttempts: '3',
      lockoutDurationSeconds: '3600',
      lockoutMode: 'monitor',
      callbackUrls: 'https://a.example/cb,https://b.example/cb',
      deletionProtection: 'false',
    });
    expect(config.lockout).toMatchObject({ maxFailedAttempts: 3, mode: 'monitor' });
    expect(config.lockout?.lockoutDuration?.toSeconds()).toBe(3600);
    expect(config.callbackUrls).toEqual(['https://a.example/cb', 'https://b.example/cb']);
    expect(config.deletionProtection).toBe(false);
  });

  it('accepts cdk.json JSON values', () => {
    const config = read({ maxFailedAttempts: 4, callbackUrls: ['https://a.example/'], removalPolicy: 'destroy' });
    expect(config.lockout?.maxFailedAttempts).toBe(4);
    expect(config.removalPolicy).toBe(RemovalPolicy.DESTROY);
  });

  it.each<[Record<string, unknown>, string]>([
    [{ maxFailedAttempts: 'many' }, 'context key "maxFailedAttempts" must be a whole number from 1 to 1000, got "many"'],
    [{ lockoutMode: 'strict' }, 'context key "lockoutMode" must be one of "enforce", "monitor", got "strict"'],
    [
      { lockoutDurationSeconds: '7200', maxLockoutDurationSeconds: '3600' },
      'context key "lockoutDurationSeconds" (7200) must not exceed context key "maxLockoutDurationSeconds" (3600)',
    ],
    [{ deletionProtection: 'yes' }, 'context key "deletionProtection" must be true or false, got "yes"'],
    [{ deviceTokens: 'maybe' }, 'context key "deviceTokens" must be one of "on", "off", got "maybe"'],
    [{ deviceTokenLifetimeDays: '0' }, 'context key "deviceTokenLifetimeDays" must be a whole number from 1 to 400, got 0'],
    [{ removalPolicy: 'snapshot' }, 'context key "removalPolicy" must be "retain" or "destroy", got "snapshot"'],
    [{ callbackUrls: [] }, 'context key "callbackUrls" must be a non-empty list of URLs (a JSON array, or comma-separated text), got []'],
  ])('rejects %j naming the key', (context, message) => {
    expect(() => read(context)).toThrow(message);
  });

  it('reads the committed cdk.json without error', () => {
    const { context } = JSON.parse(readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'));
    expect(() => read(context)).not.toThrow();
  });
});

describe('cdk-nag AwsSolutions checks', () => {
  type Report = {
    pluginReports: Array<{ violations: unknown[]; suppressedViolations: Array<{ ruleName: string; reason: string; acknowledgedId: string }> }>;
  };
  function nagReport(app: App): Report {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    return JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
  }

  it('finds nothing unacknowledged in the stack, and every acknowledgement has a reason', () => {
    const app = noBundling();
    new CognitoLockoutStack(app, 'Nagged');
    const [report] = nagReport(app).pluginReports;
    expect(report.violations).toEqual([]);
    expect(report.suppressedViolations.map((s) => s.ruleName).sort()).toEqual([
      'AwsSolutions-COG2',
      'AwsSolutions-COG8',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-SMG4',
      'AwsSolutions-SQS3',
    ]);
    for (const s of report.suppressedViolations) expect(s.reason.length).toBeGreaterThan(60);
  });

  it('fails synth on findings that are not acknowledged (the check is live)', () => {
    const app = noBundling();
    const stack = new Stack(app, 'Bare');
    new CognitoLockout(stack, 'Lockout', { userPool: new UserPool(stack, 'Pool') });
    const message = (() => {
      try {
        nagReport(app);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain('AwsSolutions-COG8');
    // Only the bare pool is at fault: the construct itself (table, roles, functions, logs) raises nothing.
    expect(message).not.toMatch(/AwsSolutions-(IAM|L1|DDB|CW|SNS)/);
  });
});

describe('what the construct checks in the pool and its clients at synth', () => {
  function host(poolProps: ConstructorParameters<typeof UserPool>[2] = { signInCaseSensitive: false }) {
    const app = noBundling();
    const stack = new Stack(app, 'Checked');
    const pool = new UserPool(stack, 'Pool', poolProps);
    return { app, stack, pool };
  }
  const synthErrors = (app: App) => {
    try {
      app.synth();
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('accepts a case-insensitive pool whose clients prevent existence errors and allow neither custom auth nor USER_AUTH', () => {
    const { app, stack, pool } = host();
    pool.addClient('Web', { authFlows: { userSrp: true, userPassword: true }, preventUserExistenceErrors: true });
    new CognitoLockout(stack, 'Lockout', { userPool: pool });
    expect(synthErrors(app)).toBe('');
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cognito-lockout'))).toEqual([]);
  });

  it("warns on a case-sensitive pool (CDK's default), naming the fix", () => {
    const { stack, pool } = host({});
    new CognitoLockout(stack, 'Lockout', { userPool: pool });
    Annotations.fromStack(stack).hasWarning('/Checked/Lockout', Match.stringLikeRegexp('case-sensitively.*signInCaseSensitive: false'));
    const env = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    for (const fn of Object.values(env)) expect(fn.Properties.Environment.Variables.LOCKOUT_SIGN_IN_CASE_SENSITIVE).toBe('true');
  });

  it("fails synth for a client with CDK's defaults: no existence-error prevention, custom auth allowed", () => {
    const { app, stack, pool } = host();
    pool.addClient('Defaults');
    new CognitoLockout(stack, 'Lockout', { userPool: pool });
    const message = synthErrors(app);
    expect(message).toContain('Checked/Pool/Defaults does not prevent user existence errors');
    expect(message).toContain('Set preventUserExistenceErrors: true');
    expect(message).toContain("allows CUSTOM_AUTH (CDK's default when authFlows is unset)");
  });

  it('fails synth for a client created anywhere in the app with custom auth, and warns of USER_AUTH naming the alarm, after the construct', () => {
    const { app, stack, pool } = host();
    new CognitoLockout(stack, 'Lockout', { userPool: pool });
    new UserPoolClient(new Stack(app, 'Elsewhere'), 'Late', {
      userPool: pool,
      authFlows: { custom: true, user: true, userSrp: true },
      preventUserExistenceErrors: true,
    });
    const message = synthErrors(app);
    expect(message).toContain('Elsewhere/Late allows CUSTOM_AUTH');
    // USER_AUTH is a warning now (the next test): only CUSTOM_AUTH fails the synth.
    expect(message).not.toContain('USER_AUTH');
  });

  it('synthesizes a client allowing USER_AUTH with a warning, and alarms on uncounted sign-ins', () => {
    const { app, stack, pool } = host();
    pool.addClient('Choice', { authFlows: { user: true, userSrp: true }, preventUserExistenceErrors: true });
    const lockout = new CognitoLockout(stack, 'Lockout', { userPool: pool });
    expect(synthErrors(app)).toBe('');
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Choice allows USER_AUTH'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/UncountedSignIns alarm.*SignInUncounted events/);
    expect(lockout.monitoring?.uncountedSignInsAlarm).toBeDefined();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'CognitoLockout', MetricName: 'UncountedSignIns' }),
          }),
        }),
      ],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('lets a deployer accept each risk by name, and names the prop for an unknown one', () => {
    const { app, stack, pool } = host({});
    pool.addClient('Defaults', { authFlows: { user: true, custom: true, userSrp: true } });
    new CognitoLockout(stack, 'Lockout', {
      userPool: pool,
      acceptedPoolRisks: [PoolRisk.CASE_SENSITIVE_SIGN_IN, PoolRisk.USER_EXISTENCE_ERRORS, PoolRisk.CUSTOM_AUTH, PoolRisk.USER_AUTH],
    });
    expect(synthErrors(app)).toBe('');
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cognito-lockout'))).toEqual([]);
    const other = host();
    expect(() => new CognitoLockout(other.stack, 'Lockout', { userPool: other.pool, acceptedPoolRisks: ['custom' as never] })).toThrow(
      'CognitoLockout: acceptedPoolRisks may contain PoolRisk.CASE_SENSITIVE_SIGN_IN, PoolRisk.USER_EXISTENCE_ERRORS, PoolRisk.CUSTOM_AUTH, PoolRisk.USER_AUTH, got "custom"',
    );
  });

  it("needs signInCaseSensitive for a pool it cannot read, and refuses one that contradicts the pool's", () => {
    const stack = new Stack(noBundling(), 'Imported');
    expect(() => new CognitoLockout(stack, 'Lockout', { userPool: UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbCdEfGhI') })).toThrow(
      /signInCaseSensitive must be set for a user pool not defined in this app/,
    );
    const { app, stack: own, pool } = host();
    new CognitoLockout(own, 'Lockout', { userPool: pool, signInCaseSensitive: true });
    expect(synthErrors(app)).toContain('CognitoLockout: signInCaseSensitive is true, but the user pool is case-insensitive: remove the prop');
  });

  it('judges the pool and clients as CloudFormation will get them: overrides and later changes count', () => {
    const { app, stack, pool } = host();
    const client = pool.addClient('Web', { authFlows: { userSrp: true }, preventUserExistenceErrors: true });
    new CognitoLockout(stack, 'Lockout', { userPool: pool });
    (pool.node.defaultChild as CfnUserPool).addPropertyOverride('UsernameConfiguration.CaseSensitive', true);
    (client.node.defaultChild as CfnUserPoolClient).addPropertyOverride('PreventUserExistenceErrors', 'LEGACY');
    expect(synthErrors(app)).toContain('Checked/Pool/Web does not prevent user existence errors');
    (client.node.defaultChild as CfnUserPoolClient).addPropertyOverride('PreventUserExistenceErrors', 'ENABLED');
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    for (const fn of Object.values(functions)) expect(fn.Properties.Environment.Variables.LOCKOUT_SIGN_IN_CASE_SENSITIVE).toBe('true');
    Annotations.fromStack(stack).hasWarning('/Checked/Lockout', Match.stringLikeRegexp('case-sensitively'));
  });
});
