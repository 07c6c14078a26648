// Front-end helpers: no runtime dependency, safe to bundle into a browser app.
export { type LockoutCheck, type LockoutRefusal, recognizeLockout } from './lockout-error';
