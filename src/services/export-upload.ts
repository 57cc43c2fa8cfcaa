// Bytes into an R2 multipart upload through one fixed part buffer. R2 accepts a
// multipart object only when every part but the last has the same size (and at
// least 5 MiB), so parts are cut at exactly `partSize` bytes, wherever that falls
// in a record or a UTF-8 sequence; the concatenation restores them.

export const MIB = 1024 * 1024;
/** R2's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * MIB;

export class PartWriter {
  private buffer: Uint8Array | null = null;
  private filled = 0;
  private readonly parts: R2UploadedPart[] = [];
  /** Bytes written so far (uploaded or buffered). */
  bytes = 0;

  /** `onPart` runs after each part is stored (the job records progress and checks it still owns the export). */
  constructor(
    private readonly upload: R2MultipartUpload,
    readonly partSize: number,
    private readonly onPart: (partsDone: number) => Promise<void> = async () => {},
  ) {
    if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE) throw new RangeError(`part size must be at least ${MIN_PART_SIZE} bytes`);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.buffer ??= new Uint8Array(this.partSize);
    let offset = 0;
    while (offset < chunk.byteLength) {
      const n = Math.min(this.partSize - this.filled, chunk.byteLength - offset);
      this.buffer.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.partSize) await this.flush();
    }
    this.bytes += chunk.byteLength;
  }

  /** Uploads what is left as the last part and completes the object. */
  async finish(): Promise<R2Object> {
    if (this.filled > 0 || this.parts.length === 0) await this.flush();
    this.buffer = null;
    return this.upload.complete(this.parts);
  }

  private async flush(): Promise<void> {
    const body = this.buffer!.subarray(0, this.filled);
    // The buffer is reused only after uploadPart has resolved, i.e. after R2 has the bytes.
    this.parts.push(await this.upload.uploadPart(this.parts.length + 1, body));
    this.filled = 0;
    await this.onPart(this.parts.length);
  }
}
