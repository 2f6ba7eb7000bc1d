/** A Keystone object another depends on is missing: what, and what to do. */
export class KeystonePrecondition extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'KeystonePrecondition';
  }
}
