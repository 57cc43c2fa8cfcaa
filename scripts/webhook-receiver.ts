// A consumer's webhook endpoint on loopback, for the benchmark (bench/webhooks.ts) and the demo
// (`npm run demo -- --webhooks`): it checks every delivery's Standard Webhooks signature with the
// `standardwebhooks` package (not our signing code), answers 204, and keeps what it received.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  type: string;
  data: unknown;
  /** performance.now() when the body was in. */
  at: number;
  /** The same webhook-id seen before (a retry). */
  repeat: boolean;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Deliveries whose signature did not verify (answered 400). */
  rejected: number;
  /** The secret the endpoint was created with (set after POST /api/v1/webhook-endpoints). */
  secret: string | null;
  onDelivery?: (r: Received) => void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const seen = new Set<string>();
  const receiver: Receiver = {
    url: "",
    received: [],
    rejected: 0,
    secret: null,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      try {
        if (!receiver.secret) throw new Error("no secret yet");
        const event = new Webhook(receiver.secret).verify(body, headers) as { type: string; data: unknown };
        const id = headers["webhook-id"]!;
        const r: Received = { id, type: event.type, data: event.data, at: performance.now(), repeat: seen.has(id) };
        seen.add(id);
        receiver.received.push(r);
        receiver.onDelivery?.(r);
        res.writeHead(204).end();
      } catch {
        receiver.rejected++;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/vitaltrends`;
  return receiver;
}
