// Moved to src/testing/validate/pss.ts (the `mlplatform/testing` entry point); kept so existing tests import it unchanged.
export * from '../../../src/testing/validate/pss';
