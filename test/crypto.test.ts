import { describe, expect, it } from "vitest";
import { Keyring, KeyringError, sha256Hex, timingSafeEqualStrings } from "../src/lib/crypto";
import { fromBase64, randomBytes, toBase64Url } from "../src/lib/encoding";

const keyB64 = () => btoa(String.fromCharCode(...randomBytes(32)));
const HEVY_KEY = "5f2b9c1e-8d4a-4c3b-9e7f-1a2b3c4d5e6f";

describe("Keyring (AES-256-GCM envelopes)", () => {
  it("round-trips and never stores the plaintext", async () => {
    const ring = await Keyring.load(keyB64());
    const envelope = await ring.encrypt(HEVY_KEY, "hevy_api_key:u1");
    expect(envelope).not.toContain(HEVY_KEY);
    expect(envelope).not.toContain(HEVY_KEY.replace(/-/g, ""));
    expect(envelope.split(":")[1]).toBe(ring.currentKid);
    expect(await ring.decrypt(envelope, "hevy_api_key:u1")).toEqual({ plaintext: HEVY_KEY, stale: false });
  });

  it("uses a fresh 96-bit IV for every encryption", async () => {
    const ring = await Keyring.load(keyB64());
    const a = await ring.encrypt(HEVY_KEY, "x");
    const b = await ring.encrypt(HEVY_KEY, "x");
    expect(a).not.toBe(b);
    expect(fromBase64(a.split(":")[2]!).length).toBe(12);
  });

  it("detects a flipped ciphertext byte", async () => {
    const ring = await Keyring.load(keyB64());
    const [v, kid, iv, ct] = (await ring.encrypt(HEVY_KEY, "aad")).split(":") as [string, string, string, string];
    const bytes = fromBase64(ct);
    bytes[3]! ^= 0x01;
    const tampered = [v, kid, iv, toBase64Url(bytes)].join(":");
    await expect(ring.decrypt(tampered, "aad")).rejects.toBeInstanceOf(KeyringError);
  });

  it("refuses an envelope moved to another owner (additional data)", async () => {
    const ring = await Keyring.load(keyB64());
    const envelope = await ring.encrypt(HEVY_KEY, "hevy_api_key:alice");
    await expect(ring.decrypt(envelope, "hevy_api_key:mallory")).rejects.toThrow("authentication");
  });

  it("decrypts envelopes of a previous key after rotation and flags them stale", async () => {
    const oldKey = keyB64();
    const newKey = keyB64();
    const before = await (await Keyring.load(oldKey)).encrypt(HEVY_KEY, "a");
    const rotated = await Keyring.load(newKey, `${keyB64()}, ${oldKey}`);
    expect(await rotated.decrypt(before, "a")).toEqual({ plaintext: HEVY_KEY, stale: true });
    const withoutOld = await Keyring.load(newKey);
    await expect(withoutOld.decrypt(before, "a")).rejects.toThrow("no key with id");
  });

  it("rejects keys that are not 32 bytes of base64", async () => {
    await expect(Keyring.load(undefined)).rejects.toThrow("not set");
    await expect(Keyring.load(btoa("short"))).rejects.toThrow("32 bytes");
    await expect(Keyring.load("***not base64***")).rejects.toThrow("base64");
  });

  it("rejects malformed envelopes", async () => {
    const ring = await Keyring.load(keyB64());
    for (const bad of ["", "v1:abc", "v2:a:b:c", "v1:a:b:c:d"]) {
      await expect(ring.decrypt(bad, "x")).rejects.toBeInstanceOf(KeyringError);
    }
  });
});

describe("digests and comparisons", () => {
  it("sha256Hex matches the known digest", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("timingSafeEqualStrings compares content, including different lengths", async () => {
    expect(await timingSafeEqualStrings("Bearer abc", "Bearer abc")).toBe(true);
    expect(await timingSafeEqualStrings("Bearer abc", "Bearer abd")).toBe(false);
    expect(await timingSafeEqualStrings("Bearer abc", "Bearer abcd")).toBe(false);
    expect(await timingSafeEqualStrings("", "x")).toBe(false);
  });
});
