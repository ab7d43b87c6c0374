// Moved to src/testing/validate/cache.ts (the `mlplatform/testing` entry point); kept so existing tests import it unchanged.
export * from '../../../src/testing/validate/cache';
