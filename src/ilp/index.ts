// Public API of the ILP library: ILPv4 packets, OER, addresses, error codes, fulfillments, BTP 2.0, ILDCP.
export * from './address.js';
export * from './btp.js';
export * from './codec-error.js';
export * from './errors.js';
export * from './fulfillment.js';
export * from './ildcp.js';
export * from './oer.js';
export * from './packet.js';
export * from './timestamp.js';
export * from './types.js';
