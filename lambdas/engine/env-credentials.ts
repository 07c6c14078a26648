/**
 * Bundled in place of `@aws-sdk/credential-provider-node` (see the esbuild alias in lib/cognito-lockout.ts).
 * Lambda always hands a function its role's credentials as environment variables, so the default chain's
 * SSO, INI, process and web-identity providers, with the STS and SSO clients they pull in, are dead weight:
 * about a third of each bundle, and load time on every cold start.
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
