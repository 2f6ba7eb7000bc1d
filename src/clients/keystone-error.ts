import { ApiError } from './api-error.ts';

/** Keystone said no, or could not be reached, or its credentials could not be read: what happened, what to do. */
export class KeystoneError extends ApiError {}
