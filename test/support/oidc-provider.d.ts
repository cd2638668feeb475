// oidc-provider ships no types; the tests use only its constructor and callback().
declare module 'oidc-provider' {
  export default class Provider {
    constructor(issuer: string, configuration: unknown);
    callback(): (req: unknown, res: unknown) => void;
  }
}
