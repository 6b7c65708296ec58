export * from './keys.js';
export * from './tags.js';
export * from './articles.js';
export * from './timeline.js';
export * from './rate-limits.js';
export * from './deletions.js';
export * from './events.js';
export * from './webhooks.js';
