export * from './keys.js';
export * from './tags.js';
