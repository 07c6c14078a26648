// The parts of amazon-cognito-identity-js's (untyped) internals that test/srp.test.ts and test/srp.property.test.ts
// drive: the client half of Cognito's SRP, exactly as the library computes it.
declare module 'amazon-cognito-identity-js/lib/BigInteger' {
  export default class BigInteger {
    constructor(value: string, radix: number);
    toString(radix: number): string;
    modPow(exponent: BigInteger, modulus: BigInteger, callback: (error: Error | null, result: BigInteger) => void): void;
  }
}
declare module 'amazon-cognito-identity-js/lib/AuthenticationHelper' {
  import type BigInteger from 'amazon-cognito-identity-js/lib/BigInteger';
  export default class AuthenticationHelper {
    constructor(poolName: string);
    getLargeAValue(callback: (error: Error, a: BigInteger) => void): void;
    getPasswordAuthenticationKey(
      username: string,
      password: string,
      serverB: BigInteger,
      salt: BigInteger,
      callback: (error: Error, key: Buffer) => void,
    ): void;
    /** The client's secret a: 128 random bytes. */
    generateRandomSmallA(): BigInteger;
    /** How the client encodes every integer it hashes. */
    padHex(value: BigInteger): string;
  }
}
