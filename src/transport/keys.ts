export { generateKeyPair } from './ssh.ts';
