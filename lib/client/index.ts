// Front-end helpers: no runtime dependency, safe to bundle into a browser app.
export {
  type LockoutCheck,
  type LockoutRefusal,
  type LockoutTrigger,
  type LockoutTriggerName,
  type LockoutUnavailable,
  type RecognizeLockoutOptions,
  recognizeLockout,
} from './lockout-error';
