import { Annotations, Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  OAuthScope,
  UserPool,
  type UserPoolClient,
  UserPoolClientIdentityProvider,
  type UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import { CognitoLockout, type NotifyUserProps, cdkLibVersion, checkCdkVersion } from './cognito-lockout';
import type { LockoutPolicyProps } from './lockout-props';

export interface CognitoLockoutStackProps extends StackProps {
  /**
   * The lockout policy.
   * @default - the construct's defaults (5 attempts, 15 minutes, backoff x2 up to 24 hours)
   */
  readonly lockout?: LockoutPolicyProps;
  /**
   * Email the owner of a known account once when a sign-in lock starts (see `CognitoLockoutProps.notifyUser`).
   * @default - no notices
   */
  readonly notifyUser?: NotifyUserProps;
  /**
   * Prefix of the Cognito domain (`<prefix>.auth.<region>.amazoncognito.com`): lowercase letters, digits and
   * hyphens, 1-63 characters, not starting or ending with a hyphen, without the reserved words aws, amazon
   * or cognito. Prefixes are global per Region.
   * @default - `lockout-` and the last 12 hex digits of the CloudFormation stack id: fixed for the life of the
   * stack and unique, without exposing the account id
   */
  readonly domainPrefix?: string;
  /**
   * OAuth callback URLs of the app client: where the managed login pages send users back. https, or http on
   * localhost. Without them the client has no OAuth flow and the managed login pages cannot sign anyone in (a
   * production stack never registers a localhost URL it was not given).
   * @default - no OAuth on the app client
   */
  readonly callbackUrls?: string[];
  /**
   * OAuth sign-out URLs of the app client. https, or http on localhost.
   * @default - the callback URLs
   */
  readonly logoutUrls?: string[];
  /**
   * Cognito deletion protection on the user pool.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * What happens to the user pool, the lockout table and the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const RESERVED_PREFIX_WORDS = ['aws', 'amazon', 'cognito'];

/** A ready user pool with configurable lockout: pool, public app client, Cognito domain, table and triggers. */
export class CognitoLockoutStack extends Stack {
  readonly userPool: UserPool;
  readonly userPoolClient: UserPoolClient;
  readonly domain: UserPoolDomain;
  readonly lockout: CognitoLockout;

  constructor(scope: Construct, id: string, props: CognitoLockoutStackProps = {}) {
    super(scope, id, props);
    checkCdkVersion(cdkLibVersion());
    const callbackUrls = props.callbackUrls === undefined ? undefined : checkUrls(props.callbackUrls, 'callbackUrls');
    const logoutUrls = props.logoutUrls === undefined ? callbackUrls : checkUrls(props.logoutUrls, 'logoutUrls');
    if (callbackUrls === undefined && logoutUrls !== undefined)
      throw new Error('logoutUrls needs callbackUrls: without them the client has no OAuth flow');
    const domainPrefix = props.domainPrefix === undefined ? defaultDomainPrefix() : checkDomainPrefix(props.domainPrefix);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.userPool = new UserPool(this, 'UserPool', {
      // deviceTracking is deliberately absent: device remembering stays OFF. Front ends that install sessions
      // from a backend break on refresh when Cognito expects a remembered device.
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      // Cannot be changed after creation: "Jane@x" and "jane@x" must be one account, and one lockout counter.
      signInCaseSensitive: false,
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy,
    });

    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions::AwsSolutions-COG8',
      reason:
        "The Plus feature plan (paid threat protection) is the deployer's choice; this stack exists to give the " +
        'Essentials plan the configurable lockout it lacks. Set featurePlan on the pool to use both.',
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions::AwsSolutions-COG2',
      reason:
        "Requiring MFA changes every front end's sign-in flow, so it is a per-deployment product decision; " +
        'the lockout limits password guessing with or without MFA.',
    });

    this.userPoolClient = this.userPool.addClient('WebClient', {
      generateSecret: false,
      // Explicit: CDK's default adds CUSTOM_AUTH, for which pre-authentication may not fire.
      authFlows: { userSrp: true, userPassword: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      ...(callbackUrls === undefined
        ? { disableOAuth: true }
        : {
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
              callbackUrls,
              logoutUrls,
            },
          }),
    });
    if (callbackUrls === undefined) {
      Annotations.of(this).addInfoV2(
        'cognito-lockout:no-callback-urls',
        'No callbackUrls: the app client has no OAuth flow, so the managed login pages cannot sign anyone in. Deploy with ' +
          '-c callbackUrls=https://app.example.com/ (and logoutUrls) to turn them on; SDK and Amplify sign-ins work either way.',
      );
    }

    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix } });

    this.lockout = new CognitoLockout(this, 'Lockout', { ...props.lockout, userPool: this.userPool, removalPolicy, notifyUser: props.notifyUser });

    const domainHost = Fn.join('', [domainPrefix, '.auth.', Aws.REGION, '.amazoncognito.com']);
    const outputs: Record<string, [string, string]> = {
      UserPoolId: [this.userPool.userPoolId, 'Cognito user pool id'],
      UserPoolClientId: [this.userPoolClient.userPoolClientId, 'Public app client id (no secret)'],
      Region: [Aws.REGION, 'Region of the user pool'],
      DomainUrl: [this.domain.baseUrl(), 'Cognito domain'],
      LockoutTableName: [this.lockout.table.tableName, 'DynamoDB table holding lockout state'],
      AmplifyConfig: [
        this.toJsonString({
          Auth: {
            Cognito: {
              userPoolId: this.userPool.userPoolId,
              userPoolClientId: this.userPoolClient.userPoolClientId,
              loginWith: {
                email: true,
                ...(callbackUrls === undefined
                  ? {}
                  : {
                      oauth: {
                        domain: domainHost,
                        scopes: ['openid', 'email', 'profile'],
                        redirectSignIn: callbackUrls,
                        redirectSignOut: logoutUrls,
                        responseType: 'code',
                      },
                    }),
              },
            },
          },
        }),
        'Amplify v6 Amplify.configure() settings',
      ],
    };
    if (callbackUrls !== undefined) {
      outputs.ManagedLoginUrl = [
        this.domain.signInUrl(this.userPoolClient, { redirectUri: callbackUrls[0] }),
        'Sign-in page (OAuth authorization code grant)',
      ];
    }
    for (const [name, [value, description]] of Object.entries(outputs)) new CfnOutput(this, name, { value, description });
  }
}

/** The stack id's GUID ends in 12 hex digits: unique, stable for the stack's life, and hides the account id. */
function defaultDomainPrefix(): string {
  const guid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return Fn.join('', ['lockout-', Fn.select(4, Fn.split('-', guid))]);
}

export function checkDomainPrefix(prefix: string): string {
  if (Token.isUnresolved(prefix)) return prefix;
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix)) {
    throw new Error(
      `domainPrefix must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen, got ${JSON.stringify(prefix)}`,
    );
  }
  const reserved = RESERVED_PREFIX_WORDS.find((word) => prefix.includes(word));
  if (reserved !== undefined) throw new Error(`domainPrefix must not contain the reserved word "${reserved}", got ${JSON.stringify(prefix)}`);
  return prefix;
}

function checkUrls(urls: string[], name: string): string[] {
  if (urls.length === 0) throw new Error(`${name} must list at least one URL`);
  for (const url of urls) {
    if (Token.isUnresolved(url)) continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`${name} must contain absolute URLs, got ${JSON.stringify(url)}`);
    }
    const local = parsed.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(parsed.hostname);
    if (parsed.protocol !== 'https:' && !local)
      throw new Error(`${name} must use https (http is allowed only for localhost), got ${JSON.stringify(url)}`);
    if (parsed.hash !== '') throw new Error(`${name} must not contain a fragment, got ${JSON.stringify(url)}`);
  }
  return urls;
}
