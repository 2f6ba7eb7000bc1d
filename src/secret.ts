// A string that never prints: `[secret]` through toString, JSON and util.inspect. Only the transport
// and clients call reveal(), at the moment the value goes onto a wire (stdin, a request body, a login,
// the bytes of a file written to the target). It lives outside the engine so that clients and the
// transport need not import the engine.
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
  /** Whether a plain value (read from a file on the target) is this secret, without handing the value out. */
  matches(plain: string): boolean {
    return this.#value === plain;
  }
  /** A yes/no question about the value (does it hold a line break?), without handing the value out. */
  satisfies(pred: (value: string) => boolean): boolean {
    return pred(this.#value);
  }
  /** The same secret, transformed (percent-encoded for a URL, escaped for a file format); still a Secret. */
  map(f: (value: string) => string): Secret {
    return new Secret(f(this.#value));
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

/**
 * Text with secrets inside it (`connection = mysql://glance:<secret>@controller/glance`): prints with each
 * secret masked as `***`, compares with plain text without revealing, and is revealed whole only at a wire.
 */
export class SecretText {
  readonly parts: readonly (string | Secret)[];
  constructor(parts: readonly (string | Secret)[]) {
    this.parts = parts.filter((p) => p !== '');
  }
  static of(value: string | Secret | SecretText): SecretText {
    return value instanceof SecretText ? value : new SecretText([value]);
  }
  /** Plain when it holds no secret, else the SecretText itself. */
  static join(parts: readonly (string | Secret | SecretText)[]): string | SecretText {
    const flat = parts.flatMap((p) => (p instanceof SecretText ? p.parts : [p]));
    return flat.some((p) => p instanceof Secret) ? new SecretText(flat) : flat.join('');
  }
  get holdsSecret(): boolean {
    return this.parts.some((p) => p instanceof Secret);
  }
  masked(mask = '***'): string {
    return this.parts.map((p) => (p instanceof Secret ? mask : p)).join('');
  }
  reveal(): string {
    return this.parts.map((p) => (p instanceof Secret ? p.reveal() : p)).join('');
  }
  matches(plain: string): boolean {
    return this.reveal() === plain;
  }
  satisfies(pred: (value: string) => boolean): boolean {
    return pred(this.reveal());
  }
  map(f: (value: string) => string): SecretText {
    return new SecretText(this.parts.map((p) => (p instanceof Secret ? p.map(f) : f(p))));
  }
  toString(): string {
    return this.masked('[secret]');
  }
  toJSON(): string {
    return this.masked('[secret]');
  }
  [inspect.custom](): string {
    return this.masked('[secret]');
  }
}

/** The bytes of a value for a wire: the only place a SecretText becomes plain text. */
export function revealText(value: string | Secret | SecretText): string {
  return typeof value === 'string' ? value : value.reveal();
}
