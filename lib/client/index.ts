// Front-end helpers: no runtime dependency, safe to bundle into a browser app.
export {
  DEFAULT_DEVICE_TOKEN_CLAIM,
  type DeviceTokens,
  type DeviceTokensOptions,
  type DeviceTokenStorage,
  type IdTokenInput,
  deviceTokens,
} from './device-token';
export {
  type LockoutCheck,
  type LockoutRefusal,
  type LockoutTrigger,
  type LockoutTriggerName,
  type LockoutUnavailable,
  type RecognizeLockoutOptions,
  recognizeLockout,
} from './lockout-error';
