// @ts-check
/**
 * The test environment: jest's Node environment without the `navigator` global that Node 21+ defines.
 *
 * Why (issue 23): the SRP clients under test (amazon-cognito-identity-js and Amplify v6 each ship the same jsbn
 * BigInteger) pick their digit routine by `typeof navigator`. Without it, as on Node 20, they use `am3` (bit
 * operations only); with Node 21+'s `navigator` they take their browser branch and use `am1`, which calls `Math.floor`
 * for every digit. In an app that costs nothing (about 0.1 s per SRP sign-in on Node 24). In a jest test it runs in
 * a `vm` context, where every lookup of a global such as `Math` goes through Node's context interceptors: one SRP
 * sign-in then took 5 s of CPU on Node 24 (measured: `getLargeAValue()` 5.1 s in jest, 0.1 s in a plain process,
 * 0.09 s in jest on Node 20). The client's event loop stayed blocked past the sandbox front's 5 s keep-alive, so its
 * next request went out on a socket the front had just closed: `fetch failed … read ECONNRESET`, retried by Amplify
 * (15-45 s sign-ins) and fatal for identity-js. Every routine gives the same numbers, so the tests still exercise
 * the clients' real SRP; the sandbox and the clients' own behaviour are unchanged.
 */
const { TestEnvironment } = require('jest-environment-node');

class LockoutTestEnvironment extends TestEnvironment {
  /** @param {ConstructorParameters<typeof TestEnvironment>} args */
  constructor(...args) {
    super(...args);
    delete this.global.navigator;
  }
}

module.exports = LockoutTestEnvironment;
