// A BullMQ queue that hands its jobs' data to Redis as bytes it encodes itself.
import { Job, type JobJson, Queue, type QueueOptions } from "bullmq";

/**
 * A queue whose jobs' data goes to Redis as the bytes `encode` makes of it, rather than as
 * BullMQ's JSON.stringify string. ioredis measures a string argument's UTF-8 length three times
 * and copies it twice on its way to the socket (`Command.toWritable` and its `MixedBuffers`, as
 * BullMQ's other arguments are Buffers); a Buffer it copies once. For the gateway's ingest jobs
 * (kilobytes of base64 body each) that, with the stringify, was over a third of the CPU spent
 * verifying and queueing a request (bench/PROFILE.md). Redis stores what it is given, so
 * consumers read these jobs as any other: `encode` must give JSON.
 *
 * It rests on two BullMQ internals (5.x): `Queue.add` builds its job with the class `Job`
 * returns, and the `data` of `asJSON()` is passed as it is to the script that stores the job.
 * The gateway's tests read back what it queued, so an upgrade that changes either fails them.
 */
export class BytesQueue<Data> extends Queue<Data> {
  readonly #job: typeof Job;

  constructor(name: string, opts: QueueOptions, encode: (data: Data) => Buffer) {
    super(name, opts);
    this.#job = class BytesJob extends Job<Data> {
      override asJSON(): JobJson {
        const data = this.data;
        // BullMQ serialises the rest of the job; it stringifies `{}` in place of the data.
        this.data = undefined as Data;
        try {
          return { ...super.asJSON(), data: encode(data) as unknown as string };
        } finally {
          this.data = data;
        }
      }
    } as typeof Job;
  }

  protected override get Job(): typeof Job {
    return this.#job;
  }
}
