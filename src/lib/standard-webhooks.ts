import { fromBase64, randomBytes, toBase64, utf8 } from "./encoding";

// Standard Webhooks signing (https://www.standardwebhooks.com, SPEC §15): the headers
// `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`, a space-separated list
// of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the base64-decoded part of a
// `whsec_…` secret. WebCrypto only; test/webhook-delivery.test.ts checks every delivery with the
// reference library (npm `standardwebhooks`).

export const WEBHOOK_SECRET_PREFIX = "whsec_";
/** 32 random bytes: the spec asks for 24 to 64. */
const SECRET_BYTES = 32;

/** A fresh signing secret: `whsec_` + base64 of 32 random bytes. */
export const newWebhookSecret = (): string => WEBHOOK_SECRET_PREFIX + toBase64(randomBytes(SECRET_BYTES));

/** The HMAC key of a `whsec_…` secret. */
async function signingKey(secret: string): Promise<CryptoKey> {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error("not a whsec_ secret");
  const raw = fromBase64(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/**
 * The `webhook-signature` header: one `v1,<base64>` entry per secret, in the order given (the
 * current secret first, then one still honoured after a rotation), separated by spaces.
 */
export async function signatures(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Promise<string> {
  const content = utf8(`${id}.${timestampSeconds}.${body}`);
  const entries = await Promise.all(
    secrets.map(async (secret) => `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", await signingKey(secret), content)))}`),
  );
  return entries.join(" ");
}
