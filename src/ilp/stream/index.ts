export * from './crypto.js';
export * from './frames.js';
export * from './packet.js';
export * from './receipt.js';
export * from './receiver.js';
