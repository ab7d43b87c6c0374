export * from './addons';
export * from './addon-values';
export * from './context';
export * from './exposure';
export * from './pools';
export * from './stores';
export * from './tenants';
export * from './tracking';
