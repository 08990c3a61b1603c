export * from './client';
export * from './errors';
export * from './backoff';
export * from './dedupe';
export * from './emitted';
