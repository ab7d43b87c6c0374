// Moved to src/testing/validate/validator.ts (the `mlplatform/testing` entry point); kept so existing tests import it unchanged.
export * from '../../../src/testing/validate/validator';
