/**
 * Dev only: the Ed25519 key pair that signs the example's integrity checkpoints, made on first
 * start and kept beside the audit data (gitignored), so restarts sign with the same key and old
 * checkpoints still verify. A real app loads its private key from a secret store and gives
 * auditors only the public key.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

function devKey(dir) {
  const privateKeyPath = path.join(dir, 'integrity-dev-private.pem');
  const publicKeyPath = path.join(dir, 'integrity-dev-public.pem');
  let created = false;
  if (!fs.existsSync(privateKeyPath)) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    fs.writeFileSync(publicKeyPath, publicKey.export({ type: 'spki', format: 'pem' }));
    created = true;
  }
  const privateKey = fs.readFileSync(privateKeyPath, 'utf8');
  // The public key is derived again, so a lost or edited public file cannot go unnoticed.
  fs.writeFileSync(publicKeyPath, crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }));
  return { privateKey, privateKeyPath, publicKeyPath, created };
}

module.exports = { devKey };
