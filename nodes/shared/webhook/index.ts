export * from './items';
export * from './secret';
export * from './seenEvents';
export * from './sessionCache';
export * from './signature';
