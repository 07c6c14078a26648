import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Bundled in place of `@aws-sdk/credential-provider-node` (see the esbuild alias in scripts/build-assets.mjs).
 * Lambda always hands a function its role's credentials as environment variables, so the default chain's
 * SSO, INI, process and web-identity providers, with the STS and SSO clients they pull in, are dead weight:
 * about a third of each bundle, and load time on every cold start.
 *
 * Read once: the variables do not change for the life of an execution environment, and `fromEnv` alone would read
 * and validate them again on every request (measured with `npm run bench:profile`: about 0.015 ms a decision).
 */
export function defaultProvider(init?: Parameters<typeof fromEnv>[0]): ReturnType<typeof fromEnv> {
  const read = fromEnv(init);
  let cached: ReturnType<ReturnType<typeof fromEnv>> | undefined;
  return (options) => {
    cached ??= read(options).catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
