// Signing and verification with secrets the plugin cannot read: the host
// holds the keys (credential fields the operator designated for signing);
// the plugin names them.

import * as host from "patchbay:connector/crypto@0.1.4";
import { ConnectorError } from "./errors.js";

export type HashAlgorithm = host.HashAlgorithm;

const encoder = new TextEncoder();

function bytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

function cryptoError(error: any): ConnectorError {
  const payload = error?.payload ?? error;
  if (payload?.tag === "unknown-secret") {
    return ConnectorError.config(`the secret credential ${JSON.stringify(payload.val)} is not set (or not a signing field)`);
  }
  return ConnectorError.provider(`crypto: ${String(error)}`);
}

/** HMAC of `message` keyed by the credential `secretField`. */
export function hmac(algorithm: HashAlgorithm, secretField: string, message: string | Uint8Array): Uint8Array {
  try {
    return host.hmac(algorithm, secretField, bytes(message));
  } catch (error) {
    throw cryptoError(error);
  }
}

/** Checks in constant time that `signature` is the HMAC of `message` keyed by `secretField`. */
export function verifyHmac(
  algorithm: HashAlgorithm,
  secretField: string,
  message: string | Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return host.verifyHmac(algorithm, secretField, bytes(message), signature);
  } catch (error) {
    throw cryptoError(error);
  }
}

/** Checks in constant time that `candidate` equals the credential `secretField`. */
export function verifySecret(secretField: string, candidate: string): boolean {
  try {
    return host.verifySecret(secretField, candidate);
  } catch (error) {
    throw cryptoError(error);
  }
}

/** A digest of `data`. */
export function digest(algorithm: HashAlgorithm, data: string | Uint8Array): Uint8Array {
  return host.digest(algorithm, bytes(data));
}

/**
 * Checks an Ed25519 signature of `message` by a provider's published
 * `publicKey` (32 bytes), as Discord signs its interactions. A key or a
 * signature of the wrong length is not valid.
 */
export function verifyEd25519(publicKey: Uint8Array, message: string | Uint8Array, signature: Uint8Array): boolean {
  return host.verifyEd25519(publicKey, bytes(message), signature);
}

/** Bytes from hex (either case); `undefined` when `text` is not hex. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
