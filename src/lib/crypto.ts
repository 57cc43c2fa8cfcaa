import { fromBase64, randomBytes, toBase64Url, toHex, utf8 } from "./encoding";

export async function sha256Hex(value: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", utf8(value)));
}

/**
 * Constant-time string equality. Both sides are hashed first so the comparison
 * runs over equal-length buffers and leaks neither content nor length.
 */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", utf8(a)),
    crypto.subtle.digest("SHA-256", utf8(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

/** A URL-safe random secret of `bytes` random bytes. */
export const randomSecret = (bytes = 32): string => toBase64Url(randomBytes(bytes));

const ENVELOPE_VERSION = "v1";
const IV_BYTES = 12;

export class KeyringError extends Error {
  override name = "KeyringError";
}

interface KeyEntry {
  kid: string;
  key: CryptoKey;
}

/**
 * AES-256-GCM envelope encryption for secrets at rest (Hevy keys, webhook
 * secrets). Each envelope is `v1:<kid>:<iv>:<ciphertext+tag>` with a random
 * 96-bit IV, so the same plaintext never encrypts the same way twice. The key
 * id (a digest prefix of the key, not the key) lets a rotated
 * KEY_ENCRYPTION_KEY keep decrypting envelopes made under an older key listed
 * in KEY_ENCRYPTION_KEYS_PREVIOUS. `aad` binds an envelope to its owner and
 * purpose, so a ciphertext copied to another row or column fails to decrypt.
 */
export class Keyring {
  private constructor(
    private readonly current: KeyEntry,
    private readonly byKid: Map<string, KeyEntry>,
  ) {}

  static async load(currentB64: string | undefined, previousB64?: string): Promise<Keyring> {
    if (!currentB64) throw new KeyringError("KEY_ENCRYPTION_KEY is not set");
    const current = await importKey(currentB64);
    const byKid = new Map([[current.kid, current]]);
    for (const b64 of (previousB64 ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
      const entry = await importKey(b64);
      if (!byKid.has(entry.kid)) byKid.set(entry.kid, entry);
    }
    return new Keyring(current, byKid);
  }

  get currentKid(): string {
    return this.current.kid;
  }

  /** Ids of the older keys still accepted for decryption: envelopes under them await re-encryption. */
  get previousKids(): string[] {
    return [...this.byKid.keys()].filter((kid) => kid !== this.current.kid);
  }

  async encrypt(plaintext: string, aad: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: utf8(aad) },
      this.current.key,
      utf8(plaintext),
    );
    return [ENVELOPE_VERSION, this.current.kid, toBase64Url(iv), toBase64Url(new Uint8Array(ct))].join(":");
  }

  /** Decrypts an envelope; `stale` is true when it was made under an older key and should be re-encrypted. */
  async decrypt(envelope: string, aad: string): Promise<{ plaintext: string; stale: boolean }> {
    const [version, kid, ivB64, ctB64, ...rest] = envelope.split(":");
    if (version !== ENVELOPE_VERSION || !kid || !ivB64 || !ctB64 || rest.length > 0) {
      throw new KeyringError("malformed envelope");
    }
    const entry = this.byKid.get(kid);
    if (!entry) throw new KeyringError(`no key with id ${kid}`);
    try {
      const pt = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromBase64(ivB64), additionalData: utf8(aad) },
        entry.key,
        fromBase64(ctB64),
      );
      return { plaintext: new TextDecoder().decode(pt), stale: kid !== this.current.kid };
    } catch {
      throw new KeyringError("envelope failed authentication");
    }
  }
}

async function importKey(b64: string): Promise<KeyEntry> {
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = fromBase64(b64);
  } catch {
    throw new KeyringError("encryption key is not base64");
  }
  if (raw.length !== 32) throw new KeyringError("encryption key must be 32 bytes");
  const kid = toHex(await crypto.subtle.digest("SHA-256", raw)).slice(0, 16);
  const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
  return { kid, key };
}
