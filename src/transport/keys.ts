// SSH key pairs in OpenSSH format, made with ssh2 so the host needs no ssh-keygen.
import ssh2 from 'ssh2';

export function generateKeyPair(comment: string): { private: string; public: string } {
  const k = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { private: k.private, public: k.public };
}
