// Moved to src/testing/validate/engine.ts (the `mlplatform/testing` entry point); kept so existing tests import it unchanged.
export * from '../../../src/testing/validate/engine';
