// New service passwords.
import crypto from 'node:crypto';

/** Alphanumeric so the password survives a URL, an INI file and a shell without quoting. */
export function generatePassword(length = 24): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  // 256 is not a multiple of the alphabet's 57 letters: draw again above the last whole multiple, so every letter is as likely.
  const out: string[] = [];
  while (out.length < length) {
    for (const b of crypto.randomBytes(length)) if (b < 256 - (256 % alphabet.length) && out.length < length) out.push(alphabet[b % alphabet.length]!);
  }
  return out.join('');
}
