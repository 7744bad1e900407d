// Minimal typings for cose-js 0.9.0 (untyped CommonJS), covering the one call the tests make.
declare module 'cose-js' {
  interface Verifier {
    key: { x: Buffer; y: Buffer } | { n: Buffer; e: number };
  }
  const cose: {
    sign: { verify(message: Buffer, verifier: Verifier): Promise<Buffer> };
  };
  export default cose;
}
