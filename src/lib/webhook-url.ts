import { validationFailed } from "./errors";

// Where outgoing webhooks may go (SPEC §15).

export const WEBHOOK_URL_MAX = 2048;

const urlProblem = (message: string) => validationFailed([{ path: ["url"], message }]);

/** Hosts that are this machine or a private network: never a consumer's public endpoint. */
function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)
      || (a === 100 && b >= 64 && b <= 127) || (a === 198 && (b === 18 || b === 19)) || a >= 224;
  }
  if (host.startsWith("[")) {
    const v6 = host.slice(1, -1);
    // Unspecified, loopback, unique-local, link-local, IPv4-mapped, IPv4-compatible (the parser
    // writes [::127.0.0.1] as [::7f00:1]) and NAT64 (64:ff9b::/96) addresses.
    return v6 === "::" || v6 === "::1" || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith("::ffff:")
      || /^::[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(v6) || v6.startsWith("64:ff9b:");
  }
  return false;
}

/**
 * The URL deliveries go to, as the URL parser spells it. `https` only; `http` only to localhost
 * or 127.0.0.1, and only when the deployment allows it (ALLOW_INSECURE_WEBHOOK_URLS, for local
 * development and tests). No credentials in it, no whitespace (the parser would silently drop
 * some), and, unless insecure URLs are allowed, no loopback or private-network host.
 */
export function endpointUrl(raw: string, allowInsecure: boolean): string {
  if (raw.length > WEBHOOK_URL_MAX) throw urlProblem(`must be at most ${WEBHOOK_URL_MAX} characters`);
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) throw urlProblem("must not contain whitespace or control characters");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw urlProblem("must be an absolute https URL");
  }
  if (url.username !== "" || url.password !== "") throw urlProblem("must not contain credentials");
  if (url.protocol === "http:") {
    if (!allowInsecure) throw urlProblem("must use https");
    if (url.hostname !== "localhost" && url.hostname !== "127.0.0.1") throw urlProblem("http is allowed only to localhost or 127.0.0.1; use https");
  } else if (url.protocol !== "https:") {
    throw urlProblem("must be an https URL");
  } else if (!allowInsecure && isPrivateHost(url.hostname)) {
    throw urlProblem("must name a public host");
  }
  if (url.href.length > WEBHOOK_URL_MAX) throw urlProblem(`must be at most ${WEBHOOK_URL_MAX} characters`);
  return url.href;
}
