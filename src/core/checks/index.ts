export * from './types';
export * from './fit';
export * from './concurrency';
export * from './demands';
export * from './data-access';
export * from './workloads';
export * from './embedded';
export * from './kueue';
