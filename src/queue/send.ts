import type { WebhookDeliveryMessage } from "./messages";

/** Queues' sendBatch takes at most 100 messages per call. */
export const SEND_BATCH_MAX = 100;

/** Sends every body in order, SEND_BATCH_MAX per sendBatch call; returns how many were sent. */
export async function sendAll<T>(queue: Queue<T>, bodies: readonly T[]): Promise<number> {
  for (let i = 0; i < bodies.length; i += SEND_BATCH_MAX) {
    await queue.sendBatch(bodies.slice(i, i + SEND_BATCH_MAX).map((body) => ({ body })));
  }
  return bodies.length;
}

/** One attempt of delivering an outgoing webhook event to one endpoint (WEBHOOK_QUEUE). */
export const deliveryMessage = (userId: string, endpointId: string, eventId: string): WebhookDeliveryMessage => ({
  type: "webhook_delivery", userId, endpointId, eventId,
});
