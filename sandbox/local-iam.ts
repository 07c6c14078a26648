/**
 * Who each function is, to the sandbox's IAM gateway: its own access key id (as each Lambda function signs with its
 * role's credentials), every AWS endpoint it calls pointed at the gateway, and its role from the synthesized template
 * resolved to the local names. Shared with the DynamoDB Local suites (test/support/iam.ts), so both name a function's
 * role the same way.
 */
import { LOCAL_REGION } from './dynamodb-local';
import type { IamGateway } from './iam-gateway';
import { authorize, refusalMessage } from './iam-policy';
import { type FunctionRole, type LocalNames, platformRequests, rolePrincipal } from './iam-template';
import type { TemplateResource } from './synthesized';

/** The account the local services stand in (the sandbox's secret ARN names it too). */
export const LOCAL_ACCOUNT = '000000000000';

/** A function's own key id: what names its role to the enforcers. */
export function accessKeyIdOf(functionName: string): string {
  return `LOCAL${functionName.toUpperCase()}`;
}

/** The SDK's standard variables (`AWS_ENDPOINT_URL_<SERVICE>`) for every service a function may call. */
const ENDPOINT_VARIABLES = [
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_EVENTBRIDGE',
  'AWS_ENDPOINT_URL_SESV2',
  'AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER',
];

/** A function's credentials and endpoints: everything it calls goes through the gateway, signed as itself. */
export function functionAwsEnv(functionName: string, gateway: IamGateway): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: accessKeyIdOf(functionName),
    AWS_SECRET_ACCESS_KEY: 'local',
    ...Object.fromEntries(ENDPOINT_VARIABLES.map((name) => [name, gateway.endpoint])),
  };
}

export class LocalIamError extends Error {
  override readonly name = 'LocalIamError';
}

/**
 * Registers a function with the gateway, after checking what the Lambda service does with its role: write its logs,
 * and for a stream mapping read the stream and send to its failure queue. Lambda refuses to create a stream mapping
 * whose role cannot read the stream, and drops the logs of a role that cannot write them: either is an error here.
 */
export function registerFunction(
  gateway: IamGateway,
  role: FunctionRole,
  resources: Record<string, TemplateResource>,
  local: LocalNames,
  upstreams: Record<string, string>,
): void {
  const principal = rolePrincipal(role, resources, local);
  for (const request of platformRequests(role, resources, local)) {
    const decision = authorize(principal, request);
    if (!decision.allowed)
      throw new LocalIamError(`Lambda cannot run ${role.name} as the template defines it: ${refusalMessage(principal, request, decision)}`);
  }
  gateway.register({ accessKeyId: accessKeyIdOf(role.name), principal, upstreams });
}
