// Cognito trigger events as Cognito sends them, for the tests, the benchmark and the sandbox tooling.
import type {
  PostAuthenticationTriggerEvent,
  PostConfirmationTriggerEvent,
  PreAuthenticationTriggerEvent,
  PreSignUpTriggerEvent,
  PreTokenGenerationTriggerEvent,
} from 'aws-lambda';

const common = {
  version: '1',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_AbCdEfGhI',
  callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: '4c2vq7mtc1km3t3gqrl1qvdqbe' },
};

/** As Cognito sends it for a pool with email sign-in: userName is the generated UUID (equal to sub). */
export function preAuthEvent(
  userName = 'a1b2c3d4-0000-4000-8000-00000000000a',
  request: Partial<PreAuthenticationTriggerEvent['request']> = {},
): PreAuthenticationTriggerEvent {
  return {
    ...common,
    triggerSource: 'PreAuthentication_Authentication',
    userName,
    request: {
      userAttributes: { sub: userName, email: 'jane@example.com', email_verified: 'true', 'cognito:user_status': 'CONFIRMED' },
      validationData: {},
      ...request,
    },
    response: {},
  };
}

/** An unknown name, with PreventUserExistenceErrors on: Cognito passes the typed text and no attributes. */
export function unknownUserPreAuthEvent(typed: string): PreAuthenticationTriggerEvent {
  return preAuthEvent(typed, { userAttributes: {}, userNotFound: true });
}

export function federatedPreAuthEvent(): PreAuthenticationTriggerEvent {
  return preAuthEvent('Google_104222391844912345678', {
    userAttributes: { sub: 'f0000000-0000-4000-8000-000000000001', 'cognito:user_status': 'EXTERNAL_PROVIDER' },
  });
}

export function postAuthEvent(
  userName = 'a1b2c3d4-0000-4000-8000-00000000000a',
  attributes: Record<string, string> = {},
): PostAuthenticationTriggerEvent {
  return {
    ...common,
    triggerSource: 'PostAuthentication_Authentication',
    userName,
    request: {
      userAttributes: { sub: userName, email: 'jane@example.com', 'cognito:user_status': 'CONFIRMED', ...attributes },
      newDeviceUsed: false,
    },
    response: {},
  };
}

export function preSignUpEvent(
  attributes: Record<string, string> = { email: 'new.user@example.com' },
  triggerSource: PreSignUpTriggerEvent['triggerSource'] = 'PreSignUp_SignUp',
  userName = '0f0e0d0c-1111-4222-8333-444455556666',
): PreSignUpTriggerEvent {
  return {
    ...common,
    triggerSource,
    userName,
    request: { userAttributes: attributes, validationData: {} },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  };
}

/** After ConfirmForgotPassword (or ConfirmSignUp): the user's attributes, as Cognito sends them. */
export function postConfirmationEvent(
  userName = 'a1b2c3d4-0000-4000-8000-00000000000a',
  triggerSource: PostConfirmationTriggerEvent['triggerSource'] = 'PostConfirmation_ConfirmForgotPassword',
): PostConfirmationTriggerEvent {
  return {
    ...common,
    triggerSource,
    userName,
    request: { userAttributes: { sub: userName, email: 'jane@example.com', email_verified: 'true', 'cognito:user_status': 'CONFIRMED' } },
    response: {},
  };
}

/** Before Cognito issues tokens for a sign-in (TokenGeneration_Authentication by default). */
export function preTokenGenerationEvent(
  userName = 'a1b2c3d4-0000-4000-8000-00000000000a',
  triggerSource: PreTokenGenerationTriggerEvent['triggerSource'] = 'TokenGeneration_Authentication',
): PreTokenGenerationTriggerEvent {
  return {
    ...common,
    triggerSource,
    userName,
    request: {
      userAttributes: { sub: userName, email: 'jane@example.com' },
      groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: undefined },
    },
    response: { claimsOverrideDetails: {} },
  } as PreTokenGenerationTriggerEvent;
}
