export * from './types';
export * from './fit';
export * from './demands';
export * from './data-access';
export * from './workloads';
