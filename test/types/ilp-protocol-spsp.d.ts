// ilp-protocol-spsp ships no types: the part of its API the interop tests use.
declare module 'ilp-protocol-spsp' {
  export interface SpspResponse {
    destination_account: string;
    shared_secret: string;
    content_type: string;
    [key: string]: unknown;
  }
  export function query(pointer: string): Promise<SpspResponse>;
  export function pay(
    plugin: unknown,
    options: { receiver: string; sourceAmount: string; streamOpts?: Record<string, unknown> },
  ): Promise<{ totalSent: string }>;
}

declare module 'ilp-protocol-spsp/node_modules/ilp-protocol-stream/src/stream.js' {
  export class DataAndMoneyStream {}
}
