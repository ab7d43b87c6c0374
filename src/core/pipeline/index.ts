export * from './dag';
export * from './dataset';
export * from './pipeline';
export * from './references';
export * from './schedule';
export * from './step';
