export * from './algorithms';
export * from './capacity';
export * from './images';
export * from './objectives';
export * from './runtime-config';
export * from './search-space';
export * from './storage';
export * from './sweep';
