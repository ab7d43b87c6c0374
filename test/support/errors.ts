import { ValidationError } from '../../src/core';

/** Runs `fn`, expecting it to throw a ValidationError, and returns it (any other outcome fails the test). */
export function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}
