// Package esign is the cryptographic core of employees' electronic
// signatures (УНЭП): key pairs behind one KeyAlgorithm interface, the
// deployment's certification authority (employee certificates, its own
// self-signed certificate, CRLs) over any crypto.Signer, private keys sealed
// under the employee's signature password together with a KMS data key, and
// detached CMS (PKCS #7) signatures with their verification.
//
// It imports nothing from AWS: the CA key and the data keys are ports (a
// crypto.Signer and DataKeys) that shared/kmsca implements over KMS. Nothing
// here stores anything or logs anything; callers keep the SealedKey, the
// certificate and the revocations, and must never log a password, a
// plaintext key or a data key. docs/esign.md explains the scheme.
package esign
