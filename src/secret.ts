// A string that never prints: `[secret]` through toString, JSON and util.inspect. Only transport and
// clients call reveal(), at the moment the value goes onto a wire (stdin, a request body, a login).
// It lives outside the engine so that clients and the transport need not import the engine.
import { inspect } from 'node:util';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  equals(other: Secret): boolean {
    return this.#value === other.#value;
  }
  toString(): string {
    return '[secret]';
  }
  toJSON(): string {
    return '[secret]';
  }
  [inspect.custom](): string {
    return '[secret]';
  }
}
