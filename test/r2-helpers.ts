import { env } from "cloudflare:workers";

/** True when R2 still accepts parts for the upload, i.e. it was neither aborted nor completed. */
export async function uploadOpen(key: string, uploadId: string): Promise<boolean> {
  try {
    await env.EXPORTS.resumeMultipartUpload(key, uploadId).uploadPart(1, "probe");
    return true;
  } catch {
    return false;
  }
}
