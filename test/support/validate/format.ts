// Moved to src/testing/validate/format.ts (the `mlplatform/testing` entry point); kept so existing tests import it unchanged.
export * from '../../../src/testing/validate/format';
