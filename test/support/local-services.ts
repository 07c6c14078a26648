import { AdminConfirmSignUpCommand, CognitoIdentityProviderClient, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Amplify } from '@aws-amplify/core';
import { cognitoUserPoolsTokenProvider } from '@aws-amplify/auth/cognito';
import { AuthenticationDetails, CognitoUser, CognitoUserPool, type CognitoUserSession } from 'amazon-cognito-identity-js';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, startDynamoDbLocal, warmUp } from '../../sandbox/dynamodb-local';
import * as path from 'node:path';
import { type Sandbox, type SandboxStatus, startSandbox } from '../../sandbox/sandbox';

/** DynamoDB Local for one suite: started (and warmed) before its tests, stopped after them. */
export function useDynamoDbLocal(): { engine: () => DynamoDbLocal; documents: () => DynamoDBDocumentClient } {
  let engine: DynamoDbLocal;
  let documents: DynamoDBDocumentClient;
  beforeAll(async () => {
    engine = await startDynamoDbLocal();
    await warmUp(engine);
    documents = DynamoDBDocumentClient.from(engine.client);
  });
  afterAll(async () => {
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    await engine?.stop();
  });
  return { engine: () => engine, documents: () => documents };
}

/**
 * The sandbox as `npm start` runs it (the committed cdk.json, plus `context`) for one suite: started before its tests
 * with its Cognito API as the AWS SDK reaches it and the decision log's lines, stopped after them.
 */
export function useSandbox(context: Record<string, string> = {}): {
  readonly sandbox: Sandbox;
  readonly sdk: CognitoIdentityProviderClient;
  readonly logs: Array<Record<string, unknown>>;
} {
  let sandbox: Sandbox | undefined;
  let sdk: CognitoIdentityProviderClient | undefined;
  const logs: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    sandbox = await startSandbox({
      projectRoot: path.join(__dirname, '..', '..'),
      port: 0,
      dynamodbPort: 0,
      context,
      onLog: (line) => logs.push(line),
    });
    sdk = sandboxCognito(sandbox.status);
  }, 120_000);
  afterAll(async () => {
    sdk?.destroy();
    await sandbox?.stop();
  });
  return {
    get sandbox() {
      return sandbox!;
    },
    get sdk() {
      return sdk!;
    },
    logs,
  };
}

/** The Cognito API of a running sandbox, as the AWS SDK reaches it. */
export function sandboxCognito(status: SandboxStatus): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({ endpoint: status.endpoint, region: status.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
}

/** A user signed up and confirmed in the sandbox's pool. */
export async function confirmedUser(sdk: CognitoIdentityProviderClient, status: SandboxStatus, email: string, password: string): Promise<void> {
  await sdk.send(new SignUpCommand({ ClientId: status.userPoolClientId, Username: email, Password: password }));
  await sdk.send(new AdminConfirmSignUpCommand({ UserPoolId: status.userPoolId, Username: email }));
}

/**
 * amazon-cognito-identity-js's default sign-in (USER_SRP_AUTH) against the sandbox: the ClientMetadata goes with both
 * requests, so pre-authentication gets it, and the success triggers get the PASSWORD_VERIFIER answer's (as in AWS).
 * ClientMetadata, not ValidationData, which would replace it on the first request.
 */
export function identityJsSignIn(
  status: SandboxStatus,
  email: string,
  password: string,
  clientMetadata?: Record<string, string>,
): Promise<CognitoUserSession> {
  const pool = new CognitoUserPool({ UserPoolId: status.userPoolId, ClientId: status.userPoolClientId, endpoint: status.endpoint });
  return new Promise((resolve, reject) =>
    new CognitoUser({ Username: email, Pool: pool }).authenticateUser(
      new AuthenticationDetails({ Username: email, Password: password, ...(clientMetadata === undefined ? {} : { ClientMetadata: clientMetadata }) }),
      { onSuccess: resolve, onFailure: reject },
    ),
  );
}

/**
 * Amplify v6 pointed at the sandbox, as `Amplify.configure` of the aws-amplify package does it: the Auth config plus
 * Cognito's token provider. Amplify warns about any custom endpoint; here it is the point, so the warning is muted.
 */
export function configureAmplify(status: SandboxStatus): void {
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  const auth = { Cognito: { userPoolId: status.userPoolId, userPoolClientId: status.userPoolClientId, userPoolEndpoint: status.endpoint } };
  cognitoUserPoolsTokenProvider.setAuthConfig(auth);
  Amplify.configure({ Auth: auth }, { Auth: { tokenProvider: cognitoUserPoolsTokenProvider } });
}
