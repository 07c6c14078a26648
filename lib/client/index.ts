// Front-end helpers: no runtime dependency, safe to bundle into a browser app.
export { type LockoutCheck, type LockoutRefusal, type LockoutTrigger, type LockoutUnavailable, recognizeLockout } from './lockout-error';
